/**
 * `kafka-channels/testing`: what dp-kafka's `kafkatest` gives Go users. Functional mocks of the consumer group
 * and producer that behave like the real clients without a broker, and a message mock that records what the
 * code under test did with it. Type your code against `IConsumerGroup` / `IProducer` and hand it these in tests.
 */
export { MockConsumerGroup, createMockConsumer, type MockConsumerOptions, type QueuedMessage } from './consumer.js';
export { MockProducer, MockExpectationError, createMockProducer, type MockProducerOptions, type SentMessage } from './producer.js';
export { MockMessage, createMessage, isMockMessage, type MockMessageOptions } from './message.js';
export type {
  IConsumerGroup, IProducer, ConsumerGroupChannels, ProducerChannels, CloseOptions, RegisterOptions,
} from '../channels/interfaces.js';

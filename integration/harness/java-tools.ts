/** Kafka's own Java command-line tools (TopicCommand, ConsoleProducer, ...) as a reference client for tests. */
import { execFile } from 'node:child_process';
import { kafkaClasspath } from './kafka-jars.js';

export const tools = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  producerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerformance: 'org.apache.kafka.tools.ConsumerPerformance',
  apiVersions: 'org.apache.kafka.tools.BrokerApiVersionsCommand',
} as const;

/** Runs a Kafka tool's main class; resolves with stdout, rejects with stdout+stderr on a non-zero exit. */
export function runKafkaTool(mainClass: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Dlog4j2.level=warn',
      '-cp', kafkaClasspath(), mainClass, ...args],
    { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${mainClass} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

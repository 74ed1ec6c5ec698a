/**
 * Health of a producer or consumer group by dp-kafka's rules (health.go, health_info.go, v3.10+):
 *
 * - not initialised: WARNING, "kafka producer is not initialised" (no initialisation is attempted);
 * - no brokers: CRITICAL, "no brokers defined";
 * - a broker is healthy when it answered a metadata request (reachable) and knows the topic (hasTopic);
 * - every broker healthy: OK with the "is healthy" message;
 * - at least `minBrokersHealthy` healthy: still OK, with a message naming the unreachable brokers and those
 *   missing the topic (dp-kafka v3.0–3.9 said WARNING here; partial broker loss does not stop a service);
 * - fewer: CRITICAL with that message.
 *
 * Probing brokers is the client layer's job: it hands {@link checker} a function returning a {@link HealthView}.
 * Health ignores the consumer's state, as dp-kafka's does.
 *
 * One rule comes from the seed (dp-kafka v1-v2) rather than v3+: {@link checkHealth} probes the brokers even before
 * initialisation, and when every broker answers with the topic's metadata it tries to initialise (bounded by the
 * request timeout) and reports OK once that worked; dp-kafka v3+ says WARNING without trying. Partial broker loss
 * follows v3.10+ (`minBrokersHealthy`), not the seed (which wanted every broker healthy).
 */

export type HealthStatus = 'OK' | 'WARNING' | 'CRITICAL';

/** What a health probe found for one broker. */
export interface BrokerHealth {
  readonly address: string;
  /** A metadata request reached it and was answered. */
  readonly reachable: boolean;
  /** Its metadata lists the topic without error and with at least one partition. */
  readonly hasTopic: boolean;
}

/** The client layer's view of broker health, the input of the rules. */
export interface HealthView {
  readonly initialised: boolean;
  readonly brokers: readonly BrokerHealth[];
  readonly minBrokersHealthy: number;
}

/** A health check result, shaped for dp-healthcheck-style subscribers and HTTP health endpoints. */
export interface HealthCheck {
  readonly status: HealthStatus;
  readonly message: string;
  readonly brokers: readonly BrokerHealth[];
}

/** Which client the check is about; it only changes the messages. */
export type HealthSubject = 'producer' | 'consumer-group';

/** dp-kafka's `MsgHealthyProducer`. */
export const MSG_HEALTHY_PRODUCER = 'kafka producer is healthy';
/** dp-kafka's `MsgHealthyConsumerGroup`. */
export const MSG_HEALTHY_CONSUMER_GROUP = 'kafka consumer group is healthy';

/** The message when some brokers are unhealthy: unreachable ones, then reachable ones without the topic. */
export function unhealthyBrokersMessage(brokers: readonly BrokerHealth[]): string {
  const unreachable = brokers.filter((b) => !b.reachable).map((b) => b.address);
  const noTopic = brokers.filter((b) => b.reachable && !b.hasTopic).map((b) => b.address);
  const parts: string[] = [];
  // Go's %v of a string slice: "[a b]"; kept so that alerts matching dp-kafka's text keep working.
  if (unreachable.length > 0) parts.push(`broker(s) not reachable at: [${unreachable.join(' ')}]`);
  if (noTopic.length > 0) parts.push(`unexpected metadata response from broker(s): [${noTopic.join(' ')}]`);
  return parts.join(', ');
}

/** Applies dp-kafka's rules to a view. Pure; see the module comment for the rules. */
export function evaluateHealth(view: HealthView, subject: HealthSubject): HealthCheck {
  const brokers = view.brokers;
  if (!view.initialised) {
    return { status: 'WARNING', message: `kafka ${subject} is not initialised`, brokers };
  }
  if (brokers.length === 0) return { status: 'CRITICAL', message: 'no brokers defined', brokers };
  let healthy = 0;
  for (const b of brokers) if (b.reachable && b.hasTopic) healthy++;
  if (healthy === brokers.length) {
    return { status: 'OK', message: subject === 'producer' ? MSG_HEALTHY_PRODUCER : MSG_HEALTHY_CONSUMER_GROUP, brokers };
  }
  return { status: healthy >= view.minBrokersHealthy ? 'OK' : 'CRITICAL', message: unhealthyBrokersMessage(brokers), brokers };
}

/**
 * Builds a client's `checker()`: each call takes a fresh view from `probe` and applies the rules. A probe that
 * throws gives CRITICAL with its error message, so a health endpoint never fails with an exception.
 */
export function checker(subject: HealthSubject, probe: () => HealthView | Promise<HealthView>): () => Promise<HealthCheck> {
  return async () => {
    let view: HealthView;
    try {
      view = await probe();
    } catch (err) {
      return { status: 'CRITICAL', message: `kafka ${subject} health check failed: ${err instanceof Error ? err.message : String(err)}`, brokers: [] };
    }
    return evaluateHealth(view, subject);
  };
}

/** What {@link checkHealth} needs from a producer or consumer group. */
export interface HealthSource {
  isInitialised(): boolean;
  /** Must honour `signal`: the check never waits longer than `timeoutMs` for it. */
  initialise(signal?: AbortSignal): Promise<void>;
  /** Each broker's answer; bounded in time by the probe itself. */
  probe(): Promise<readonly BrokerHealth[]>;
  readonly minBrokersHealthy: number;
  /** The client's request timeout: the longest an initialisation attempt from the check may take. */
  readonly timeoutMs: number;
}

/**
 * A `checker()` call: probe every broker; not initialised yet but every broker healthy (answering, with the
 * topic's metadata) → try to initialise (the seed's rule), bounded by `timeoutMs`; then apply
 * {@link evaluateHealth}. Never throws: a failing probe gives CRITICAL with its message.
 */
export async function checkHealth(subject: HealthSubject, source: HealthSource): Promise<HealthCheck> {
  let brokers: readonly BrokerHealth[];
  try {
    brokers = await source.probe();
  } catch (err) {
    return { status: 'CRITICAL', message: `kafka ${subject} health check failed: ${err instanceof Error ? err.message : String(err)}`, brokers: [] };
  }
  let initialised = source.isInitialised();
  if (!initialised && brokers.length > 0 && brokers.every((b) => b.reachable && b.hasTopic)) {
    initialised = await source.initialise(AbortSignal.timeout(source.timeoutMs)).then(() => true, () => false);
  }
  return evaluateHealth({ initialised, brokers, minBrokersHealthy: source.minBrokersHealthy }, subject);
}

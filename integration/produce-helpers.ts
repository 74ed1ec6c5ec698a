/** Shared by the produce suites: deterministic record values, a producer loop, and Kafka's console consumer. */
import type { DeliveryReport, ProducerRecord } from '../src/client/accumulator.js';
import type { ProducerEngine } from '../src/client/producer-engine.js';
import { runKafkaTool, tools } from './harness/index.js';

/** A printable 100-byte value that differs per record, so a swapped or corrupted record shows. */
export function valueOf(i: number): string {
  let h = (Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
  while (h.length < 90) h += (Math.imul(h.length ^ i, 0x85ebca6b) >>> 0).toString(36);
  return `${String(i).padStart(9, '0')}:${h.slice(0, 90)}`;
}

/** Sends `records` in chunks as a producer loop would, honouring backpressure; resolves with every report. */
export async function produceAll(engine: ProducerEngine, records: ProducerRecord[], chunk = 500): Promise<DeliveryReport[]> {
  const reports: Promise<DeliveryReport>[] = [];
  for (let i = 0; i < records.length; i += chunk) {
    let accepted!: boolean;
    reports.push(new Promise((resolve) => { accepted = engine.send(records.slice(i, i + chunk), resolve); }));
    if (!accepted) await engine.waitForSpace();
  }
  await engine.flush();
  return Promise.all(reports);
}

interface Consumed { partition: number; offset: number; key: string; value: string }

/** Reads `count` records of `topic` with Kafka's console consumer. */
export async function consume(bootstrap: string, topic: string, count: number): Promise<Consumed[]> {
  const out = await runKafkaTool(tools.consoleConsumer, ['--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning',
    '--max-messages', String(count), '--timeout-ms', '60000',
    '--formatter-property', 'print.partition=true', '--formatter-property', 'print.offset=true', '--formatter-property', 'print.key=true',
    '--formatter-property', 'key.separator=|', '--formatter-property', 'line.separator=\n'], { timeoutMs: 180_000 });
  return out.split('\n').filter((l) => l.startsWith('Partition:')).map(parseLine);
}

function parseLine(line: string): Consumed {
  // Partition:P|Offset:O|key|value (the key separator separates every printed field)
  const [p, o, key, value] = line.split('|');
  return { partition: Number(p!.slice('Partition:'.length)), offset: Number(o!.slice('Offset:'.length)), key: key!, value: value! };
}


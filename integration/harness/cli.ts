/**
 * `npm run broker:setup`  fetches Kafka's jars, makes the test certificates and builds the Go interop peer (what CI does before `npm test`).
 * `npm run broker:start [-- --cluster]` starts the single node (or the 3-node cluster) and leaves it running;
 *   the suites then reuse it instead of starting their own.
 * `npm run broker:stop [-- --cluster]` stops it.
 */
import { kafkaLibsDir, kafkaVersion } from './kafka-jars.js';
import { tlsMaterial } from './tls.js';
import { DPKAFKA_PEER, goTool } from './go-tools.js';
import { ClusterTopology, SingleNodeTopology } from './topology.js';

async function main(): Promise<void> {
  const [command, ...flags] = process.argv.slice(2);
  const clusterMode = flags.includes('--cluster');
  const t0 = Date.now();
  switch (command) {
    case 'setup': {
      console.log(`Kafka ${kafkaVersion()} jars in ${kafkaLibsDir()}`);
      console.log(`test certificates in ${tlsMaterial().dir}`);
      console.log(`dp-kafka interop peer: ${await goTool(DPKAFKA_PEER)}`);
      break;
    }
    case 'start': {
      if (clusterMode) {
        const c = await new ClusterTopology().up(true);
        console.log(`cluster up: ${c.bootstrap.join(',')}  (logs: ${c.logPaths.join(' ')})`);
        console.log(`KAFKA_BROKERS=${c.bootstrap.join(',')}`);
      } else {
        const n = await new SingleNodeTopology().up(true);
        console.log('single node up:', JSON.stringify(n.endpoints, null, 2), `\nlog: ${n.logPaths[0]}`);
        console.log(`KAFKA_BROKERS=${n.endpoints.plaintext}`);
      }
      break;
    }
    case 'stop': {
      const topo = clusterMode ? new ClusterTopology() : new SingleNodeTopology();
      if (!topo.attach()) { console.log(`no ${clusterMode ? 'cluster' : 'single node'} is running`); break; }
      await topo.down();
      console.log(`${clusterMode ? 'cluster' : 'single node'} stopped`);
      break;
    }
    default:
      console.error('usage: cli.js setup | start [--cluster] | stop [--cluster]');
      process.exit(2);
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main().catch((err) => { console.error(err); process.exit(1); });

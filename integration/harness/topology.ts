/**
 * The two topologies the suites use, run from Kafka's jars: (a) one node with every listener kind, (b) a 3-node
 * cluster for failover. Each is started once per process (or reused from `npm run broker:start`).
 */
import { createServer } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterNodeProperties, scramFormatArgs, singleNodeProperties, users, type ClusterPorts, type SinglePorts } from './broker-config.js';
import { JvmKafkaNode, newClusterId } from './jvm-node.js';
import { paths } from './paths.js';
import { tlsMaterial, type TlsMaterial } from './tls.js';

export interface SingleNode {
  /** 'host:port' of each listener. */
  endpoints: { plaintext: string; saslPlaintext: string; ssl: string; saslSsl: string; mtls: string };
  tls: TlsMaterial;
  users: typeof users;
  /** Stops the node gracefully and starts it again on the same ports and data (a broker restart). */
  restart(): Promise<void>;
  /** A graceful stop, leaving its data; `start()` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Where the broker logs, for failure reports. */
  logPaths: string[];
}

export interface ClusterNode { id: number; address: string }
export interface Cluster {
  nodes: ClusterNode[];
  bootstrap: string[];
  /** kill -9 of one node: a crash, not a shutdown. */
  kill(id: number): Promise<void>;
  /** Starts a killed or stopped node again, on its data. */
  start(id: number): Promise<void>;
  isRunning(id: number): boolean;
  logPaths: string[];
}

/** Ports the OS says are free now (bound to 0, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface SavedSingle { ports: SinglePorts }
interface SavedCluster { ports: ClusterPorts[] }
const savedPath = (name: string) => join(paths.run, `${name}.json`);

function load<T>(name: string): T | undefined {
  const file = savedPath(name);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as T : undefined;
}

export class SingleNodeTopology {
  node!: JvmKafkaNode;
  private ports!: SinglePorts;
  owned = true;

  /** Reuses a kept node when one is alive, else formats and starts a new one. */
  /** Attaches to a node kept running by `broker:start`; false when there is none. */
  attach(): boolean {
    const saved = load<SavedSingle>('single');
    if (!saved) return false;
    const node = this.make(saved.ports, tlsMaterial());
    if (!node.running) return false;
    this.node = node; this.ports = saved.ports; this.owned = false;
    return true;
  }

  async up(keep = false): Promise<SingleNode> {
    const tls = tlsMaterial();
    if (this.attach()) return this.describe(tls);
    const [plaintext, controller, saslPlaintext, ssl, saslSsl, mtls] = await freePorts(6);
    this.ports = { plaintext: plaintext!, controller: controller!, saslPlaintext: saslPlaintext!, ssl: ssl!, saslSsl: saslSsl!, mtls: mtls! };
    this.node = this.make(this.ports, tls, keep ? '' : `-${process.pid}`);
    this.node.format(newClusterId(), scramFormatArgs());
    await this.node.start({ keep });
    if (keep) {
      mkdirSync(paths.run, { recursive: true });
      writeFileSync(savedPath('single'), JSON.stringify({ ports: this.ports } satisfies SavedSingle));
    }
    return this.describe(tls);
  }

  /** `suffix` keeps the nodes of concurrent test processes apart; a kept node (`broker:start`) has none. */
  private make(ports: SinglePorts, tls: TlsMaterial, suffix = ''): JvmKafkaNode {
    const dataDir = join(paths.data, `single${suffix}`);
    return new JvmKafkaNode(`single-node1${suffix}`, singleNodeProperties(ports, dataDir, tls), dataDir);
  }

  private describe(tls: TlsMaterial): SingleNode {
    const at = (p: number) => `127.0.0.1:${p}`;
    return {
      endpoints: { plaintext: at(this.ports.plaintext), saslPlaintext: at(this.ports.saslPlaintext), ssl: at(this.ports.ssl),
        saslSsl: at(this.ports.saslSsl), mtls: at(this.ports.mtls) },
      tls, users,
      restart: async () => { await this.node.stop(); await this.node.start(); },
      stop: () => this.node.stop(),
      start: () => this.node.start(),
      logPaths: [this.node.logPath],
    };
  }

  async down(): Promise<void> {
    await this.node.stop();
    this.node.wipe();
    if (!this.owned || this.node.name === 'single-node1') rmSync(savedPath('single'), { force: true });
  }
}

export class ClusterTopology {
  nodes: JvmKafkaNode[] = [];
  private ports: ClusterPorts[] = [];
  owned = true;

  /** Attaches to a cluster kept running by `broker:start --cluster`; false when there is none. */
  attach(): boolean {
    const saved = load<SavedCluster>('cluster');
    if (!saved) return false;
    const nodes = this.make(saved.ports);
    if (!nodes.some((n) => n.running)) return false;
    this.nodes = nodes; this.ports = saved.ports; this.owned = false;
    return true;
  }

  async up(keep = false): Promise<Cluster> {
    if (this.attach()) {
      // A kept cluster with a node down (a test killed it) gets that node back.
      await Promise.all(this.nodes.filter((n) => !n.running).map((n) => n.start()));
      return this.describe();
    }
    const p = await freePorts(6);
    this.ports = [0, 1, 2].map((i) => ({ plaintext: p[2 * i]!, controller: p[2 * i + 1]! }));
    this.nodes = this.make(this.ports, keep ? '' : `-${process.pid}`);
    const clusterId = newClusterId();
    for (const n of this.nodes) n.format(clusterId);
    // A lone voter waits for a majority, so the three start together.
    await Promise.all(this.nodes.map((n) => n.start({ keep })));
    if (keep) {
      mkdirSync(paths.run, { recursive: true });
      writeFileSync(savedPath('cluster'), JSON.stringify({ ports: this.ports } satisfies SavedCluster));
    }
    return this.describe();
  }

  private make(ports: ClusterPorts[], suffix = ''): JvmKafkaNode[] {
    return ports.map((_, i) => {
      const dataDir = join(paths.data, `cluster${suffix}`, `node${i + 1}`);
      return new JvmKafkaNode(`cluster-node${i + 1}${suffix}`, clusterNodeProperties(i + 1, ports, dataDir), dataDir);
    });
  }

  private node(id: number): JvmKafkaNode {
    const n = this.nodes[id - 1];
    if (!n) throw new Error(`no cluster node ${id} (nodes are 1..${this.nodes.length})`);
    return n;
  }

  private describe(): Cluster {
    const nodes = this.ports.map((p, i) => ({ id: i + 1, address: `127.0.0.1:${p.plaintext}` }));
    return {
      nodes,
      bootstrap: nodes.map((n) => n.address),
      kill: (id) => this.node(id).kill9(),
      start: (id) => this.node(id).start(),
      isRunning: (id) => this.node(id).running,
      logPaths: this.nodes.map((n) => n.logPath),
    };
  }

  async down(): Promise<void> {
    // Throw-away data: a crash stop is as good as a controlled shutdown here, and seconds faster.
    await Promise.all(this.nodes.map((n) => n.kill9()));
    for (const n of this.nodes) n.wipe();
    if (this.nodes[0]?.name === 'cluster-node1') rmSync(savedPath('cluster'), { force: true });
  }
}

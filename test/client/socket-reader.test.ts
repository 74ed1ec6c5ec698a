/**
 * Reads into the reader's memory over a real loopback socket (node:net `onread`): a socket given a reader gets every
 * byte through it, bytes that came before the reader are handed over first, a socket never given one still emits
 * 'data', and a Connection over a transport without `setReader` keeps the 'data' path.
 */
import * as assert from 'uvu/assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { suite } from '../kit.js';
import { nodeTransport, type Transport, type TransportSocket } from '../../src/client/transport.js';
import { copyToReader, type SocketReader } from '../../src/client/socket-reader.js';
import { Connection } from '../../src/client/connection.js';

const s = suite('socket-reader');

let server: Server;
let port = 0;
/** What the server sends to each client that connects, then ends. */
let payload: Buffer = Buffer.alloc(0);
let delayMs = 0;

s.before(async () => {
  server = createServer((socket) => {
    socket.on('error', () => {});
    setTimeout(() => socket.end(payload), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
s.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 13 + (i >> 10)) & 0xff;
  return b;
}

/** A reader that collects into one buffer through targets of a fixed size. */
function collector(targetBytes: number): SocketReader & { got: () => Buffer } {
  const parts: Buffer[] = [];
  let last: Buffer | undefined;
  return {
    target: () => (last = Buffer.allocUnsafe(targetBytes)),
    onRead: (n) => parts.push(Buffer.from(last!.subarray(0, n))),
    got: () => Buffer.concat(parts),
  };
}

const whenClosed = (socket: TransportSocket): Promise<void> => new Promise((resolve) => socket.on('close', () => resolve()));

s('a node:net socket given a reader delivers every byte through it, and still closes', async () => {
  payload = pattern(3 << 20);
  delayMs = 20;
  const socket = await nodeTransport.connect({ host: '127.0.0.1', port });
  const reader = collector(70_000);
  assert.is(socket.setReader?.(reader), true);
  let dataEvents = 0;
  socket.on('data', () => dataEvents++);
  await whenClosed(socket);
  assert.ok(reader.got().equals(payload), 'the bytes, in order');
  assert.is(dataEvents, 0, 'no data events with a reader');
});

s('bytes that arrive before the reader is set are handed to it first', async () => {
  payload = pattern(200_000);
  delayMs = 0;
  const socket = await nodeTransport.connect({ host: '127.0.0.1', port });
  await new Promise((r) => setTimeout(r, 50)); // the bytes are in before anyone asks for them
  const reader = collector(10_000);
  socket.on('close', () => {});
  assert.is(socket.setReader?.(reader), true);
  await whenClosed(socket);
  assert.ok(reader.got().equals(payload));
});

s('a node:net socket never given a reader emits data events as usual', async () => {
  payload = pattern(500_000);
  delayMs = 10;
  const socket = await nodeTransport.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  const copies: Buffer[] = [];
  socket.on('data', (c: Buffer) => { chunks.push(c); copies.push(Buffer.from(c)); });
  await whenClosed(socket);
  assert.ok(Buffer.concat(chunks).equals(payload));
  // Each chunk is its own memory: the next read must not change one already emitted. (Whether chunks share an
  // ArrayBuffer is the runtime's: Node 24+ cuts small reads from one allocation, so the bytes are compared.)
  chunks.forEach((c, i) => assert.ok(c.equals(copies[i]!), `chunk ${i} of ${chunks.length} changed after it was emitted`));
});

s('copyToReader splits a chunk over targets smaller than it', () => {
  const reader = collector(7);
  const bytes = pattern(100);
  copyToReader(reader, bytes);
  assert.ok(reader.got().equals(bytes));
});

s('a Connection over a transport without setReader answers through data events, large responses too', async () => {
  // An echo peer speaking Kafka framing: replies with a response of the requested size.
  const peer = createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const want = frame.readInt32BE(8);
        const out = Buffer.alloc(8 + want, 0x5a);
        out.writeInt32BE(4 + want, 0);
        out.writeInt32BE(frame.readInt32BE(4), 4);
        socket.write(out);
      }
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const peerPort = (peer.address() as { port: number }).port;
  const dataOnly: Transport = {
    connect: async (o) => {
      const socket: Socket = connect({ host: o.host, port: o.port });
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket; // a plain Socket: no setReader
    },
  };
  try {
    for (const transport of [dataOnly, nodeTransport]) {
      const conn = await Connection.connect({ host: '127.0.0.1', port: peerPort, transport });
      const sizes = [0, 10, 70_000, 3 << 20, 5];
      const replies = await Promise.all(sizes.map((size) => {
        const req = Buffer.alloc(16);
        req.writeInt32BE(12, 0);
        req.writeInt32BE(size, 12);
        return conn.request(req);
      }));
      replies.forEach((r, i) => {
        assert.is(r!.length, 4 + sizes[i]!);
        assert.ok(r!.subarray(4).every((b) => b === 0x5a));
      });
      await conn.close();
    }
  } finally {
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  }
});

s.run();

/**
 * One logical broker: a few connections to the same node, one per traffic class ("lane"), opened lazily, each
 * made ready by the same handshake (ApiVersions, KIP-35/KIP-511; then SASL, KIP-43/KIP-152), and one
 * `request(api, body)` that picks the version, encodes, sends on the lane and decodes.
 *
 * Lanes follow franz-go: produce, fetch and group/control traffic travel on separate sockets, so a fetch
 * long-poll never sits in front of a heartbeat and a slow produce never delays a commit.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { AuthenticationError, ConnectionError, DecodeError, UnsupportedVersionError } from '../errors.js';
import { ApiVersions } from '../protocol/apis/api-versions.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { brokerError, errorCodes } from '../protocol/error-codes.js';
import { headerVersions, readResponseHeader, writeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { requestCodec, responseCodec } from '../protocol/schema.js';
import type { ApiDef, RequestOf, ResponseOf } from '../protocol/schema-types.js';
import { chooseVersion, supportedVersions } from '../protocol/versions.js';
import { Writer } from '../protocol/writer.js';
import { Connection } from './connection.js';
import { createSaslMechanism, type SaslConfig, type SaslMechanism } from './sasl/index.js';
import type { Transport } from './transport.js';

/** Traffic classes with a socket each: `control` carries metadata, group, commit and admin requests. */
export type Lane = 'produce' | 'fetch' | 'control';

/** A broker's supported [min, max] version for each API key, from its ApiVersions response. */
export type ApiVersionRanges = ReadonlyMap<number, readonly [min: number, max: number]>;

export interface BrokerOptions {
  host: string;
  port: number;
  /** The broker's node id, once known from metadata (-1 for a bootstrap address). */
  nodeId?: number;
  /** Sent in every request header; brokers log it and quotas key on it. */
  clientId?: string;
  /** KIP-511: reported in ApiVersions so operators can see which clients connect. */
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** Node TLS options (see `resolveTlsOptions` in tls-options.ts); absent for PLAINTEXT / SASL_PLAINTEXT. */
  tls?: TlsConnectionOptions;
  /** SASL credentials; a fresh mechanism runs on every connection and every re-authentication. */
  sasl?: SaslConfig;
  transport?: Transport;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Per lane (Kafka's `max.in.flight.requests.per.connection`). */
  maxInFlight?: number;
  maxFrameBytes?: number;
  /**
   * After a refused authentication, requests fail with that same error, without reconnecting, for this long:
   * wrong credentials stay wrong, and hammering the broker with logins helps nobody. Default 10 s.
   */
  authFailureHoldMs?: number;
}

export interface BrokerRequestOptions {
  /** Default `control`. */
  lane?: Lane;
  /** Pin a version (still checked against both sides' ranges). */
  version?: number;
  timeoutMs?: number;
  /** False for Produce with acks=0: resolves with `undefined` once written. */
  expectResponse?: boolean;
}

interface LaneState {
  ready: Promise<Connection> | undefined;
  conn: Connection | undefined;
  reauthTimer: NodeJS.Timeout | undefined;
}

/** Sent in ApiVersions v3+ (KIP-511); also by the transaction manager's feature probe. */
export const CLIENT_SOFTWARE_NAME = 'kafka-channels';
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

function requestWriter<D extends ApiDef>(api: D, version: number, body: RequestOf<D>, clientId: string | null): Writer {
  const w = new Writer(256);
  const size = w.reserveInt32();
  writeRequestHeader(w, headerVersions(api, version)[0], { apiKey: api.apiKey, apiVersion: version, correlationId: 0, clientId });
  requestCodec(api, version).encode(w, body);
  w.patchSizeFrom(size);
  return w;
}

/** Encodes `body` as a whole size-prefixed request frame (correlation id 0: the connection sets it). */
export function encodeRequest<D extends ApiDef>(api: D, version: number, body: RequestOf<D>, clientId: string | null): Buffer {
  return requestWriter(api, version, body, clientId).finish();
}

/**
 * The same frame as the buffers to write one after another: large record batches are referenced where they
 * were encoded, not copied into the request (the first chunk always holds the size prefix and request header).
 */
export function encodeRequestChunks<D extends ApiDef>(api: D, version: number, body: RequestOf<D>, clientId: string | null): Buffer[] {
  return requestWriter(api, version, body, clientId).finishChunks();
}

/** Decodes a response frame (header, then body) of `api` at `version`. */
export function decodeResponse<D extends ApiDef>(api: D, version: number, frame: Buffer): ResponseOf<D> {
  const r = new Reader(frame);
  readResponseHeader(r, headerVersions(api, version)[1]);
  return responseCodec(api, version).decode(r);
}

/**
 * Decodes an ApiVersions response. A broker that does not know the version we sent answers
 * UNSUPPORTED_VERSION in the v0 layout (KIP-511), whatever version we asked for: the error code comes first in
 * every version, so read it, then pick the layout.
 */
export function decodeApiVersionsResponse(version: number, frame: Buffer): ResponseOf<typeof ApiVersions> {
  if (frame.length < 6) throw new DecodeError(`ApiVersions response of ${frame.length} bytes`);
  const errorCode = frame.readInt16BE(4);
  return decodeResponse(ApiVersions, errorCode === errorCodes.UNSUPPORTED_VERSION ? 0 : version, frame);
}

/** A broker, reached over lazily opened, authenticated connection lanes. Constructing it does no I/O. */
export class Broker {
  readonly host: string;
  readonly port: number;
  nodeId: number;
  private readonly options: BrokerOptions;
  private readonly lanes = new Map<Lane, LaneState>();
  private versions: ApiVersionRanges | undefined;
  /** The first connection's handshake: other lanes wait for it, so bad credentials fail once, not per lane. */
  private firstHandshake: Promise<unknown> | undefined;
  private authFailure: { error: AuthenticationError; at: number } | undefined;
  private handshakeSucceeded = false;
  private closed = false;
  /** Connections still handshaking (not yet a lane's): close() and destroy() end them too. */
  private readonly opening = new Set<Connection>();

  constructor(options: BrokerOptions) {
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.nodeId = options.nodeId ?? -1;
  }

  /** `host:port`, for logs and errors. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** The broker's API version ranges from the latest ApiVersions exchange; undefined before the first connection. */
  get apiVersions(): ApiVersionRanges | undefined {
    return this.versions;
  }

  /** The version `request` would use for `api` (connects first if the broker's ranges are not known yet). */
  async versionFor(api: ApiDef, pin?: number): Promise<number> {
    if (!this.versions) await this.connection('control');
    return this.pickVersion(api, pin);
  }

  private pickVersion(api: ApiDef, pin?: number): number {
    const range = this.versions?.get(api.apiKey);
    if (!range) throw new UnsupportedVersionError(`${api.name}: broker ${this.address} does not support this API`);
    return chooseVersion(api, range[0], range[1], pin);
  }

  /**
   * Sends `body` as `api` on `lane` and returns the decoded response. Error codes inside the response are the
   * caller's to interpret (`brokerError` in src/protocol/error-codes.ts); I/O failures reject with
   * ConnectionError / RequestTimeoutError, bad bytes with DecodeError.
   */
  async request<D extends ApiDef>(api: D, body: RequestOf<D>, options: BrokerRequestOptions & { expectResponse: false }): Promise<undefined>;
  async request<D extends ApiDef>(api: D, body: RequestOf<D>, options?: BrokerRequestOptions): Promise<ResponseOf<D>>;
  async request<D extends ApiDef>(api: D, body: RequestOf<D>, options: BrokerRequestOptions = {}): Promise<ResponseOf<D> | undefined> {
    const conn = await this.connection(options.lane ?? 'control');
    const version = this.pickVersion(api, options.version);
    const chunks = encodeRequestChunks(api, version, body, this.clientId);
    const res = await conn.request(chunks.length === 1 ? chunks[0]! : chunks, { timeoutMs: options.timeoutMs, expectResponse: options.expectResponse });
    return res === undefined ? undefined : decodeResponse(api, version, res);
  }

  private get clientId(): string {
    return this.options.clientId ?? CLIENT_SOFTWARE_NAME;
  }

  /** The ready (handshaken, authenticated) connection of `lane`, opening it if needed. */
  connection(lane: Lane): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError(`broker ${this.address} is closed`, { broker: this.address, retriable: false }));
    const held = this.authFailure;
    if (held && Date.now() - held.at < (this.options.authFailureHoldMs ?? 10_000)) return Promise.reject(held.error);
    let state = this.lanes.get(lane);
    if (!state) this.lanes.set(lane, (state = { ready: undefined, conn: undefined, reauthTimer: undefined }));
    if (state.conn?.closed) this.forget(state);
    if (state.ready) return state.ready;
    const s = state;
    const ready = this.open(lane, s).catch((err: unknown) => {
      if (s.ready === ready) this.forget(s);
      throw err;
    });
    s.ready = ready;
    return ready;
  }

  private forget(state: LaneState): void {
    clearTimeout(state.reauthTimer);
    state.reauthTimer = undefined;
    state.ready = undefined;
    state.conn = undefined;
  }

  private async open(lane: Lane, state: LaneState): Promise<Connection> {
    const first = this.firstHandshake;
    if (first) await first.catch(() => undefined);
    const held = this.authFailure;
    if (held && Date.now() - held.at < (this.options.authFailureHoldMs ?? 10_000)) throw held.error;
    const handshake = this.connectAndHandshake(lane, state);
    if (!this.handshakeSucceeded) this.firstHandshake = handshake;
    return handshake;
  }

  private async connectAndHandshake(lane: Lane, state: LaneState): Promise<Connection> {
    const o = this.options;
    const conn = await Connection.connect({
      host: o.host, port: o.port, tls: o.tls, transport: o.transport, connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs, maxInFlight: o.maxInFlight, maxFrameBytes: o.maxFrameBytes,
      name: `broker ${this.nodeId >= 0 ? this.nodeId : this.address} (${lane})`,
    });
    // Until the lane holds it, close()/destroy() reach a handshaking connection through `opening`.
    this.opening.add(conn);
    try {
      if (this.closed) throw new ConnectionError(`broker ${this.address} is closed`, { broker: this.address, retriable: false });
      this.versions = await this.negotiateVersions(conn);
      if (o.sasl) {
        const lifetimeMs = await this.authenticate(conn);
        this.scheduleReauthentication(state, conn, lifetimeMs);
      }
      this.authFailure = undefined;
      this.handshakeSucceeded = true;
    } catch (err) {
      if (err instanceof AuthenticationError) this.authFailure = { error: err, at: Date.now() };
      conn.destroy(err as Error);
      throw err;
    } finally {
      this.opening.delete(conn);
    }
    state.conn = conn;
    if (this.closed) conn.destroy();
    return conn;
  }

  /**
   * ApiVersions at our highest version; a broker that does not know it answers UNSUPPORTED_VERSION with its own
   * ApiVersions range (KIP-511), and we retry once at the version that range allows.
   */
  private async negotiateVersions(conn: Connection): Promise<ApiVersionRanges> {
    let version = supportedVersions(ApiVersions)[1];
    for (let attempt = 0; ; attempt++) {
      const body = version >= 3
        ? { clientSoftwareName: this.options.clientSoftwareName ?? CLIENT_SOFTWARE_NAME, clientSoftwareVersion: this.options.clientSoftwareVersion ?? CLIENT_SOFTWARE_VERSION }
        : {};
      const frame = await conn.request(encodeRequest(ApiVersions, version, body, this.clientId));
      const res = decodeApiVersionsResponse(version, frame!);
      if (res.errorCode === errorCodes.UNSUPPORTED_VERSION && attempt === 0) {
        const own = res.apiKeys.find((k) => k.apiKey === ApiVersions.apiKey);
        if (!own) throw new UnsupportedVersionError(`broker ${this.address} rejected ApiVersions v${version} without saying which versions it takes`);
        version = chooseVersion(ApiVersions, own.minVersion, own.maxVersion);
        continue;
      }
      if (res.errorCode !== 0) throw brokerError(res.errorCode, { api: 'ApiVersions' });
      const ranges = new Map<number, readonly [number, number]>();
      for (const k of res.apiKeys) ranges.set(k.apiKey, [k.minVersion, k.maxVersion]);
      return ranges;
    }
  }

  /** Sends one handshake-phase request on `conn` and decodes the reply (before the lane is ready). */
  private async exchange<D extends ApiDef>(conn: Connection, api: D, body: RequestOf<D>): Promise<ResponseOf<D>> {
    const version = this.pickVersion(api);
    const frame = await conn.request(encodeRequest(api, version, body, this.clientId));
    return decodeResponse(api, version, frame!);
  }

  /**
   * SaslHandshake names the mechanism, then SaslAuthenticate rounds carry its messages until it has nothing
   * more to say (KIP-152). Returns the session lifetime the broker granted (KIP-368), 0 for none.
   */
  private async authenticate(conn: Connection): Promise<number> {
    const mechanism: SaslMechanism = createSaslMechanism(this.options.sasl!);
    if (this.pickVersion(SaslHandshake) < 1) {
      throw new UnsupportedVersionError(`broker ${this.address} only speaks SaslHandshake v0 (raw SASL tokens, before KIP-152)`);
    }
    const hs = await this.exchange(conn, SaslHandshake, { mechanism: mechanism.name });
    if (hs.errorCode !== 0) {
      throw new AuthenticationError(`broker ${this.address} does not enable SASL ${mechanism.name} (it enables ${hs.mechanisms.join(', ') || 'none'})`,
        { cause: brokerError(hs.errorCode, { api: 'SaslHandshake' }) });
    }
    let out: Buffer | null = await mechanism.start();
    let lifetimeMs = 0;
    while (out !== null) {
      const res = await this.exchange(conn, SaslAuthenticate, { authBytes: out });
      if (res.errorCode !== 0) {
        const cause = brokerError(res.errorCode, { api: 'SaslAuthenticate', brokerMessage: res.errorMessage });
        throw new AuthenticationError(`SASL ${mechanism.name} authentication to ${this.address} failed: ${res.errorMessage ?? cause.errorName}`, { cause });
      }
      lifetimeMs = Number(res.sessionLifetimeMs ?? 0n);
      out = await mechanism.next(res.authBytes);
    }
    return lifetimeMs;
  }

  /**
   * KIP-368: the broker closes a connection whose session outlived `connections.max.reauth.ms`. Re-authenticate
   * on the same socket at 85-95% of the lifetime (as Kafka's Java client does), once in-flight requests are
   * answered; requests made meanwhile wait for it.
   */
  private scheduleReauthentication(state: LaneState, conn: Connection, lifetimeMs: number): void {
    clearTimeout(state.reauthTimer);
    state.reauthTimer = undefined;
    if (lifetimeMs <= 0) return;
    const delay = Math.max(1, Math.floor(lifetimeMs * (0.85 + Math.random() * 0.1)));
    state.reauthTimer = setTimeout(() => {
      state.reauthTimer = undefined;
      if (conn.closed || state.conn !== conn) return;
      const again = (async () => {
        await conn.whenIdle();
        const next = await this.authenticate(conn);
        this.scheduleReauthentication(state, conn, next);
        return conn;
      })();
      state.ready = again.catch((err: unknown) => {
        if (err instanceof AuthenticationError) this.authFailure = { error: err, at: Date.now() };
        conn.destroy(err as Error);
        if (state.conn === conn) this.forget(state);
        throw err;
      });
      state.ready.catch(() => undefined);
    }, delay);
    state.reauthTimer.unref?.();
  }

  /**
   * True while `lane`'s socket refuses more bytes or requests wait behind it: a producer stops draining its
   * accumulator until {@link Connection.waitForDrain} resolves, rather than buffering without bound.
   */
  isBackpressured(lane: Lane): boolean {
    return this.lanes.get(lane)?.conn?.backpressured ?? false;
  }

  /**
   * Closes every lane gracefully (in-flight requests are answered first; with `timeoutMs`, those still pending
   * at the deadline fail). Idempotent.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    const conns = [...this.lanes.values()].map((s) => {
      const c = s.conn;
      this.forget(s);
      return c;
    });
    this.destroyOpening();
    await Promise.all(conns.map((c) => c?.close(options)));
  }

  /** Handshakes still running are of no use once closed: their connections end now (not at requestTimeoutMs). */
  private destroyOpening(err?: Error): void {
    const closed = err ?? new ConnectionError(`broker ${this.address} is closed`, { broker: this.address, retriable: false });
    for (const conn of this.opening) conn.destroy(closed);
    this.opening.clear();
  }

  /** Closes every lane now, failing pending requests with `err`. */
  destroy(err?: Error): void {
    this.closed = true;
    this.destroyOpening(err);
    for (const s of this.lanes.values()) {
      s.conn?.destroy(err);
      this.forget(s);
    }
  }
}

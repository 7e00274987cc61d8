// Redis requests counted at the client, the same way for every queue whatever its Redis
// library (ioredis for yadtq and BullMQ, node-redis 3 for bee-queue): every write this
// process makes on a TCP socket to the Redis port is observed (net.Socket.prototype.write
// is wrapped) and its RESP commands are parsed.
//   - roundTrips: request flushes. One write is one, so a pipeline, an auto-pipelined
//     batch or a MULTI … EXEC written at once is one; writes made while the socket is corked
//     (node-redis' MULTI) count once.
//   - commands: top-level commands sent (an EVALSHA is one, whatever the script runs),
//     in all and by name.
// Commands run inside scripts are not seen here: `INFO commandstats` counts those.
import { Socket } from 'node:net';

/** What this process sent to Redis so far. */
export interface RedisTraffic {
  roundTrips: number;
  commands: number;
  byCommand: Record<string, number>;
}

const traffic: RedisTraffic = { roundTrips: 0, commands: 0, byCommand: {} };
const ignored = new WeakSet<object>();
const parsers = new WeakMap<object, RespCounter>();
const corkCounted = new WeakSet<object>();
let port = 0;

/**
 * Starts counting the writes to 127.0.0.1:`redisPort` (or any host on that port) made by
 * this process; returns the live counters.
 */
export function countRedisTraffic(redisPort: number): RedisTraffic {
  if (port !== 0) return traffic;
  port = redisPort;
  const write = Socket.prototype.write;
  const uncork = Socket.prototype.uncork;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === port && !ignored.has(this)) observe(this, chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  Socket.prototype.uncork = function (this: Socket) {
    corkCounted.delete(this);
    return uncork.call(this);
  };
  return traffic;
}

/** Leaves this socket out of the counts (the harness's own INFO/FLUSHALL connection). */
export function ignoreSocket(socket: object | undefined): void {
  if (socket) ignored.add(socket);
}

/** A copy of the counters (for before/after deltas). */
export function trafficSnapshot(): RedisTraffic {
  return { ...traffic, byCommand: { ...traffic.byCommand } };
}

function observe(socket: Socket, chunk: unknown): void {
  if (socket.writableCorked > 0) {
    if (!corkCounted.has(socket)) {
      corkCounted.add(socket);
      traffic.roundTrips++;
    }
  } else traffic.roundTrips++;
  let parser = parsers.get(socket);
  if (parser === undefined) {
    parser = new RespCounter();
    parsers.set(socket, parser);
  }
  const bytes =
    typeof chunk === 'string'
      ? Buffer.from(chunk)
      : chunk instanceof Uint8Array
        ? chunk
        : undefined;
  if (bytes !== undefined) parser.feed(bytes);
}

/** Counts the commands in a client's RESP request stream, across chunk boundaries. */
class RespCounter {
  #mode: 'array' | 'length' | 'data' | 'inline' = 'array';
  #number = 0;
  #args = 0;
  #argIndex = 0;
  #skip = 0;
  #name = '';

  feed(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#mode === 'data') {
        const take = Math.min(this.#skip, bytes.length - i);
        if (this.#argIndex === 0 && this.#name.length < 40) {
          this.#name += Buffer.from(bytes.subarray(i, i + Math.min(take, 40))).toString('latin1');
        }
        i += take;
        this.#skip -= take;
        if (this.#skip === 0) this.#endArg();
        continue;
      }
      const byte = bytes[i++]!;
      if (this.#mode === 'inline') {
        if (byte === 10) this.#command('inline');
        continue;
      }
      if (byte === 42 /* * */ || byte === 36 /* $ */) {
        this.#number = 0;
      } else if (byte >= 48 && byte <= 57) {
        this.#number = this.#number * 10 + (byte - 48);
      } else if (byte === 10 /* \n */) {
        if (this.#mode === 'array') {
          this.#args = this.#number;
          this.#argIndex = 0;
          this.#name = '';
          this.#mode = 'length';
          if (this.#args === 0) this.#command('empty');
        } else {
          this.#skip = this.#number + 2; // the bulk string and its \r\n
          this.#mode = 'data';
        }
      } else if (byte !== 13 && this.#mode === 'array') {
        this.#mode = 'inline'; // an inline command (PING\r\n): not sent by these clients
      }
    }
  }

  #endArg(): void {
    this.#argIndex++;
    if (this.#argIndex >= this.#args) this.#command(this.#name.slice(0, -2).toLowerCase());
    else this.#mode = 'length';
  }

  #command(name: string): void {
    traffic.commands++;
    traffic.byCommand[name] = (traffic.byCommand[name] ?? 0) + 1;
    this.#mode = 'array';
  }
}

// Latency and batching, on both sides of the log:
// - Producer linger: none. `send()` writes one Produce request at once; batches come from
//   the caller (a submitMany, or single submits coalesced per tick by the client), never
//   from a timer, so a lone submit is not held back waiting for company.
// - Consumer fetch: `minBytes` 1 and `maxWaitTime` 500 ms. A fetch answers as soon as one
//   record is there, so a lone task is claimed when it arrives; an idle fetch waits at the
//   broker for at most 500 ms, which keeps idle members cheap (two fetches a second) and
//   bounds how late a newly assigned partition starts. With a backlog every fetch returns
//   at once with up to FETCH_MAX_BYTES, so neither setting costs throughput.
/**
 * Messages the client's stream holds: one, so it fetches again only once the subscription
 * read what the last fetch returned; the read-ahead itself is the subscription's, bounded
 * in bytes (`fetchAheadBytes`).
 */
const FETCH_HIGH_WATER_MARK = 1;
/** Bytes one fetch may return (Kafka still returns one whole batch if it is larger). */
const FETCH_MAX_BYTES = 1024 * 1024;
/** A partition's share of one fetch, so a partition with a deep backlog cannot fill it alone. */
const FETCH_PARTITION_SHARE = 4;
/** Bytes the broker may wait for before it answers a fetch: the first record. */
const FETCH_MIN_BYTES = 1;
/** How long an idle fetch waits at the broker; also bounds how late new partitions start. */
const FETCH_MAX_WAIT_MS = 500;

/**
 * How a subscription's consumer fetches: at most `fetchAheadBytes` per fetch (no more
 * than 1 MiB), so what is buffered stays within twice the read-ahead, a quarter of that
 * per partition, answered at the first record.
 */
export function fetchOptions(fetchAheadBytes: number) {
  const maxBytes = Math.min(FETCH_MAX_BYTES, fetchAheadBytes);
  return {
    highWaterMark: FETCH_HIGH_WATER_MARK,
    maxBytes,
    maxBytesPerPartition: Math.max(1, Math.floor(maxBytes / FETCH_PARTITION_SHARE)),
    minBytes: FETCH_MIN_BYTES,
    maxWaitTime: FETCH_MAX_WAIT_MS,
  };
}

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
/**
 * One fetch is shared evenly by up to this many partitions: each may return at most its
 * share, so partitions with a deep backlog cannot fill the fetch alone. Kafka serves a
 * fetch's partitions in the order asked (the client's assignment order) and returns a
 * partition's record batch only when it fits its share, but always the first partition's
 * (KIP-74): record batches above the share (producer sends of more than about
 * `share × partitions` bytes) let the first partition with a backlog take every fetch.
 * Past this many partitions the share stays at maxBytes / 16 (64 KiB by default).
 */
const FETCH_SHARED_BY_AT_MOST = 16;
/** Bytes the broker may wait for before it answers a fetch: the first record. */
const FETCH_MIN_BYTES = 1;
/** How long an idle fetch waits at the broker; also bounds how late new partitions start. */
const FETCH_MAX_WAIT_MS = 500;

/**
 * How a subscription's consumer fetches: at most `fetchAheadBytes` per fetch (no more
 * than 1 MiB), so what is buffered stays within twice the read-ahead, shared evenly by
 * the topic's `partitions`, answered at the first record.
 */
export function fetchOptions(fetchAheadBytes: number, partitions: number) {
  const maxBytes = Math.min(FETCH_MAX_BYTES, fetchAheadBytes);
  const sharedBy = Math.min(partitions, FETCH_SHARED_BY_AT_MOST);
  return {
    highWaterMark: FETCH_HIGH_WATER_MARK,
    maxBytes,
    maxBytesPerPartition: Math.max(1, Math.floor(maxBytes / sharedBy)),
    minBytes: FETCH_MIN_BYTES,
    maxWaitTime: FETCH_MAX_WAIT_MS,
  };
}

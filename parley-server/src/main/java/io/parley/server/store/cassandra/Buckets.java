package io.parley.server.store.cassandra;

/**
 * Maps seqs (event seqs and feed seqs) onto partition buckets, so that a conversation or a feed of
 * any length is spread over partitions of at most {@value #SIZE} rows. The size is part of the
 * on-disk format: changing it needs a data migration.
 */
final class Buckets {
  /** Rows per bucket partition. */
  static final long SIZE = 10_000;

  private Buckets() {}

  /** The bucket holding {@code seq} (seqs are non-negative). */
  static long of(long seq) {
    return seq / SIZE;
  }
}

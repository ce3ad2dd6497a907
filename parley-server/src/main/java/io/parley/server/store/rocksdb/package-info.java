/**
 * The embedded RocksDB implementation of {@link io.parley.server.store.ParleyStore}: {@link
 * io.parley.server.store.rocksdb.RocksDbStore} (entry point), the key layout ({@code KeyCodec}),
 * the value encoding ({@code RecordCodec}) and the batch writer ({@code RocksDbBatchWriter}) that
 * the shared {@link io.parley.server.store.GroupCommitQueue} commits through.
 */
package io.parley.server.store.rocksdb;

/**
 * The embedded RocksDB implementation of {@link io.parley.server.store.ParleyStore}: {@link
 * io.parley.server.store.rocksdb.RocksDbStore} (entry point), the key layout ({@code KeyCodec}),
 * the value encoding ({@code RecordCodec}) and the single group-commit writer ({@code
 * GroupCommitWriter}).
 */
package io.parley.server.store.rocksdb;

/**
 * The storage seam: {@link io.parley.server.store.ParleyStore} and its records. One implementation
 * per engine lives in a sub-package ({@code rocksdb} now, {@code cassandra} for clusters).
 */
package io.parley.server.store;

/**
 * The Apache Cassandra {@link io.parley.server.store.ParleyStore}: one small class per table family
 * ({@link io.parley.server.store.cassandra.UsersTable}, {@link
 * io.parley.server.store.cassandra.EventsTable}, {@link io.parley.server.store.cassandra.FeedTable},
 * ...), a single group-commit writer that turns {@link io.parley.server.store.StoreWrite}s into
 * logged batches, and the versioned schema migrations in {@code src/main/resources/cassandra}. The
 * data model and its consistency and atomicity guarantees are described in docs/architecture.md.
 */
package io.parley.server.store.cassandra;

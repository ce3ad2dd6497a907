package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;

/**
 * Executes one logged batch synchronously. Production uses {@link #CASSANDRA}; tests substitute one
 * that makes the cluster genuinely reject a batch, to exercise the store's failure path.
 */
@FunctionalInterface
interface BatchCommitter {
  BatchCommitter CASSANDRA = CqlSession::execute;

  void commit(CqlSession session, BatchStatement batch);
}

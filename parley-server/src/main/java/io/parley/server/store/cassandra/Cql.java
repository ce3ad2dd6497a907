package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.DriverException;
import io.parley.server.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The statements of one keyspace: prepares CQL written with a {@code ${ks}} placeholder, every
 * statement at LOCAL_QUORUM and marked idempotent (every Parley write carries an explicit {@code
 * USING TIMESTAMP}, so replaying it is harmless), and runs reads, turning driver failures into
 * {@link StoreUnavailableException}. Thread-safe.
 */
final class Cql {
  private final CqlSession session;
  private final String keyspace;
  private volatile boolean closed;

  Cql(CqlSession session, String keyspace) {
    this.session = session;
    this.keyspace = keyspace;
  }

  /** Prepares {@code cql} after replacing {@code ${ks}} with the keyspace. */
  PreparedStatement prepare(String cql) {
    return session.prepare(
        SimpleStatement.builder(cql.replace("${ks}", keyspace))
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
            .setIdempotence(true)
            .build());
  }

  /** Binds the values in marker order; the result is idempotent and at LOCAL_QUORUM. */
  static BoundStatement bind(PreparedStatement ps, Object... values) {
    return ps.bind(values)
        .setIdempotent(true)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
  }

  /** Runs a read and maps every row (the driver pages transparently). */
  <T> List<T> rows(BoundStatement statement, Function<Row, T> mapper) {
    ResultSet rs = execute(statement);
    List<T> out = new ArrayList<>();
    for (Row row : rs) {
      out.add(mapper.apply(row));
    }
    return out;
  }

  /** Runs a read expected to find at most one row. */
  Row one(BoundStatement statement) {
    return execute(statement).one();
  }

  CqlSession session() {
    checkOpen();
    return session;
  }

  /** From now on every read fails with {@link StoreUnavailableException}. */
  void markClosed() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }

  private void checkOpen() {
    if (closed) {
      throw new StoreUnavailableException("store is closed");
    }
  }

  private ResultSet execute(BoundStatement statement) {
    checkOpen();
    try {
      return session.execute(statement);
    } catch (IllegalStateException e) {
      // The driver throws this once the session is closed.
      throw new StoreUnavailableException("store is closed", e);
    } catch (DriverException e) {
      throw new StoreUnavailableException("read failed: " + e.getMessage(), e);
    }
  }
}

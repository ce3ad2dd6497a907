package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.parley.protocol.cluster.v1.JournalBatch;
import io.parley.protocol.cluster.v1.JournalStatement;
import io.parley.protocol.cluster.v1.JournalValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Encodes the bound statements of one logged batch as a {@link JournalBatch} and turns one back
 * into a batch that writes exactly the same cells: each statement is its prepared CQL text plus
 * its values as the driver serialized them (so no per-record codec has to be kept in step with the
 * tables). Stateless; thread-safe.
 */
final class JournalCodec {
  private JournalCodec() {}

  /** The journal record of a batch; every statement must be a {@link BoundStatement}. */
  static byte[] encode(List<BatchableStatement<?>> statements, long maxTimestampMicros) {
    JournalBatch.Builder out = JournalBatch.newBuilder().setMaxTimestampMicros(maxTimestampMicros);
    Map<String, Integer> queryIndex = new HashMap<>();
    for (BatchableStatement<?> s : statements) {
      if (!(s instanceof BoundStatement bound)) {
        throw new IllegalArgumentException("only bound statements can be journaled: " + s);
      }
      String query = bound.getPreparedStatement().getQuery();
      Integer index = queryIndex.get(query);
      if (index == null) {
        index = queryIndex.size();
        queryIndex.put(query, index);
        out.addQueries(query);
      }
      JournalStatement.Builder st = JournalStatement.newBuilder().setQuery(index);
      for (ByteBuffer value : bound.getValues()) {
        st.addValues(
            value == null
                ? JournalValue.newBuilder().setIsNull(true).build()
                : JournalValue.newBuilder().setValue(ByteString.copyFrom(value.duplicate())).build());
      }
      out.addStatements(st);
    }
    return out.build().toByteArray();
  }

  /**
   * The logged batch a record describes, its statements prepared through {@code prepare}.
   *
   * @throws IllegalArgumentException if the record is malformed or does not fit its statements
   */
  static BatchStatement decode(byte[] record, Function<String, PreparedStatement> prepare) {
    JournalBatch batch = parse(record);
    List<PreparedStatement> prepared = new ArrayList<>(batch.getQueriesCount());
    for (String query : batch.getQueriesList()) {
      prepared.add(prepare.apply(query));
    }
    List<BatchableStatement<?>> statements = new ArrayList<>(batch.getStatementsCount());
    for (JournalStatement st : batch.getStatementsList()) {
      if (st.getQuery() >= prepared.size()) {
        throw new IllegalArgumentException("journal statement refers to query " + st.getQuery());
      }
      PreparedStatement ps = prepared.get(st.getQuery());
      if (st.getValuesCount() != ps.getVariableDefinitions().size()) {
        throw new IllegalArgumentException(
            "journal statement has " + st.getValuesCount() + " values for " + ps.getQuery());
      }
      BoundStatementBuilder b = ps.boundStatementBuilder();
      for (int i = 0; i < st.getValuesCount(); i++) {
        JournalValue v = st.getValues(i);
        b.setBytesUnsafe(i, v.getIsNull() ? null : v.getValue().asReadOnlyByteBuffer());
      }
      statements.add(
          b.setIdempotence(true).setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM).build());
    }
    return BatchStatement.builder(BatchType.LOGGED)
        .addStatements(statements)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotence(true)
        .build();
  }

  /** The highest write timestamp recorded in a journal record. */
  static long maxTimestampMicros(byte[] record) {
    return parse(record).getMaxTimestampMicros();
  }

  private static JournalBatch parse(byte[] record) {
    try {
      return JournalBatch.parseFrom(record);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("malformed journal record: " + e.getMessage(), e);
    }
  }
}

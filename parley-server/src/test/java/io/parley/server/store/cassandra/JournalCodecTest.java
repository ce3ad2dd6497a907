package io.parley.server.store.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.protocol.cluster.v1.JournalBatch;
import io.parley.protocol.cluster.v1.JournalStatement;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The journal decoder with bytes that are not a journal record (a corrupt or foreign record in the
 * shard journal): it refuses them with {@link IllegalArgumentException}, the one failure the
 * replay reports as a malformed record, and never prepares a statement for a record it cannot
 * read. Round trips through a real Cassandra are in {@code CassandraStoreJournalIT}.
 */
class JournalCodecTest {
  /** Any query is unknown here: reaching it means the record parsed and named a query. */
  private static final Function<String, PreparedStatement> UNKNOWN =
      q -> {
        throw new IllegalArgumentException("unknown query " + q);
      };

  @Property(tries = 2000)
  void randomBytesAreRefusedWithOneKindOfError(@ForAll byte[] bytes) {
    try {
      JournalCodec.decode(bytes, UNKNOWN);
      // Only a record without statements decodes without preparing anything.
      assertThat(JournalBatch.parseFrom(bytes).getStatementsCount()).isZero();
    } catch (IllegalArgumentException expected) {
      // malformed, or it named a query (refused by UNKNOWN)
    } catch (Exception other) {
      throw new AssertionError("random bytes escaped as " + other, other);
    }
    try {
      JournalCodec.maxTimestampMicros(bytes);
    } catch (IllegalArgumentException expected) {
      // malformed
    }
  }

  @Test
  void aStatementNamingAQueryTheRecordLacksIsRefused() {
    byte[] record =
        JournalBatch.newBuilder()
            .addStatements(JournalStatement.newBuilder().setQuery(3))
            .build()
            .toByteArray();
    assertThatThrownBy(() -> JournalCodec.decode(record, UNKNOWN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refers to query 3");
  }

  @Test
  void aTruncatedRecordIsRefused() {
    byte[] record =
        JournalBatch.newBuilder()
            .setMaxTimestampMicros(1_700_000_000_000_000L)
            .addQueries("INSERT INTO t (a) VALUES (?)")
            .build()
            .toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(record, record.length - 3);
    assertThatThrownBy(() -> JournalCodec.decode(truncated, UNKNOWN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed journal record");
  }
}

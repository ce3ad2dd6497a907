package io.parley.server.store.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SchemaMigrationsTest {
  @Test
  void scriptsAreVersionedInOrder() {
    assertThat(SchemaMigrations.SCRIPTS)
        .extracting(SchemaMigrations::version)
        .containsExactly(1, 2, 3);
    assertThatThrownBy(() -> SchemaMigrations.version("schema.cql"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void scriptsSplitIntoStatementsWithoutComments() {
    assertThat(
            SchemaMigrations.statements(
                "-- c\nCREATE TABLE a (x int PRIMARY KEY);\n\n  -- d\nB;\n-- trailing\n"))
        .containsExactly("CREATE TABLE a (x int PRIMARY KEY)", "B");
  }

  @Test
  void everyStatementOfTheShippedSchemaIsIdempotent() throws Exception {
    assertThat(SchemaMigrations.statements(script("V1__schema.cql")))
        .hasSize(10)
        .allSatisfy(s -> assertThat(s).startsWith("CREATE TABLE IF NOT EXISTS ${keyspace}."));
    assertThat(SchemaMigrations.statements(script("V2__notifications.cql")))
        .hasSize(6)
        .allSatisfy(s -> assertThat(s).startsWith("CREATE TABLE IF NOT EXISTS ${keyspace}."));
    assertThat(SchemaMigrations.statements(script("V3__sharded_feeds.cql")))
        .hasSize(5)
        .allSatisfy(
            s ->
                assertThat(s)
                    .matches(
                        "(?s)(CREATE TABLE IF NOT EXISTS|DROP TABLE IF EXISTS) \\$\\{keyspace\\}\\..*"));
  }

  private static String script(String name) throws Exception {
    try (var in = SchemaMigrations.class.getResourceAsStream("/cassandra/" + name)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}

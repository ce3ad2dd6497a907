package io.parley.server.store.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a keyspace to the current schema at server start: creates the keyspace (with the
 * configured replication) and a {@code schema_version} table if missing, then applies every
 * versioned script of {@link #SCRIPTS} that is not recorded there yet, in order, and records it.
 * Scripts live in {@code src/main/resources/cassandra/V<n>__<name>.cql}; each statement in them
 * must be idempotent ({@code IF NOT EXISTS}), so a migration interrupted half-way, or run by two
 * servers at once, simply completes on the next start. Never edit a released script: add the next
 * version.
 */
final class SchemaMigrations {
  /** Every migration, oldest first; the number before {@code __} is its version. */
  static final List<String> SCRIPTS = List.of(
      "V1__schema.cql", "V2__notifications.cql", "V3__sharded_feeds.cql");

  private static final Logger log = LoggerFactory.getLogger(SchemaMigrations.class);
  private static final String SCOPE = "parley";

  private SchemaMigrations() {}

  /** Applies what is missing; returns the versions applied by this call. */
  static List<Integer> apply(CqlSession session, String keyspace, Map<String, String> replication) {
    execute(
        session,
        "CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = " + cqlMap(replication));
    execute(
        session,
        "CREATE TABLE IF NOT EXISTS "
            + keyspace
            + ".schema_version (scope text, version int, script text, applied_at timestamp,"
            + " PRIMARY KEY ((scope), version))");
    Set<Integer> applied = new HashSet<>();
    for (Row row :
        session.execute(
            SimpleStatement.newInstance(
                    "SELECT version FROM " + keyspace + ".schema_version WHERE scope = ?", SCOPE)
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM))) {
      applied.add(row.getInt("version"));
    }
    List<Integer> done = new ArrayList<>();
    for (String script : SCRIPTS) {
      int version = version(script);
      if (applied.contains(version)) {
        continue;
      }
      for (String statement : statements(read(script))) {
        execute(session, statement.replace("${keyspace}", keyspace));
      }
      session.execute(
          SimpleStatement.newInstance(
                  "INSERT INTO "
                      + keyspace
                      + ".schema_version (scope, version, script, applied_at) VALUES (?, ?, ?, ?)",
                  SCOPE,
                  version,
                  script,
                  Instant.now())
              .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM));
      log.info("applied Cassandra schema migration {} to keyspace {}", script, keyspace);
      done.add(version);
    }
    return done;
  }

  /** The version number of {@code V<n>__name.cql}. */
  static int version(String script) {
    int sep = script.indexOf("__");
    if (!script.startsWith("V") || sep < 2) {
      throw new IllegalArgumentException("migration script must be named V<n>__<name>.cql: " + script);
    }
    return Integer.parseInt(script.substring(1, sep));
  }

  /** Splits a script into statements: {@code --} comments dropped, {@code ;} ends a statement. */
  static List<String> statements(String script) {
    String withoutComments =
        script.lines()
            .map(line -> line.strip().startsWith("--") ? "" : line)
            .collect(Collectors.joining("\n"));
    List<String> out = new ArrayList<>();
    for (String s : withoutComments.split(";")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }

  private static String read(String script) {
    try (InputStream in = SchemaMigrations.class.getResourceAsStream("/cassandra/" + script)) {
      if (in == null) {
        throw new IllegalStateException("migration script missing from the classpath: " + script);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void execute(CqlSession session, String cql) {
    // DDL waits for schema agreement inside the driver, so the next statement sees the table.
    session.execute(SimpleStatement.newInstance(cql).setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM));
  }

  /** {class: X, dc1: 3} as a CQL map literal; keys and values were validated by the config. */
  private static String cqlMap(Map<String, String> map) {
    return map.entrySet().stream()
        .map(e -> "'" + e.getKey().replace("'", "''") + "': '" + e.getValue().replace("'", "''") + "'")
        .collect(Collectors.joining(", ", "{", "}"));
  }
}

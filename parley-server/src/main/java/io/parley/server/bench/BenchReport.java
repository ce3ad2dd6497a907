package io.parley.server.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results of a bench run: one row per measurement window (or per step), printed as a human
 * table and, when asked, as JSON lines (one JSON object per row) for scripts and for comparing runs.
 */
public final class BenchReport {
  private final List<Map<String, Object>> rows = new ArrayList<>();

  /** Adds a row (kept in insertion order of its keys). */
  public synchronized void add(Map<String, Object> row) {
    rows.add(new LinkedHashMap<>(row));
  }

  public synchronized List<Map<String, Object>> rows() {
    return List.copyOf(rows);
  }

  /** The last row. */
  public synchronized Map<String, Object> last() {
    return rows.get(rows.size() - 1);
  }

  /** Prints one row as a two-column table (metric, value). */
  public static void printTable(PrintWriter out, Map<String, Object> row) {
    int width = row.keySet().stream().mapToInt(String::length).max().orElse(10);
    out.println("-".repeat(width + 20));
    row.forEach((k, v) -> out.printf("%-" + width + "s  %s%n", k, format(v)));
    out.flush();
  }

  /** Prints one row as a JSON line. */
  public static void printJson(PrintWriter out, Map<String, Object> row) {
    try {
      out.println(new ObjectMapper().writeValueAsString(row));
      out.flush();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String format(Object v) {
    if (v instanceof Double d) {
      return Math.abs(d) >= 100 ? String.format("%,.0f", d) : String.format("%.3f", d);
    }
    if (v instanceof Long l) {
      return String.format("%,d", l);
    }
    return String.valueOf(v);
  }
}

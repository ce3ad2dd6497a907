package io.parley.server.store;

import java.util.Objects;

/**
 * One notification job in the durable outbox: a webhook delivery, a push fan-out decision or a
 * push to one device. Jobs of one {@code lane} are delivered strictly in {@code seq} order (a
 * lane is e.g. one webhook endpoint and one conversation), so a job waits while an earlier job of
 * its lane is pending.
 *
 * @param lane the ordering lane; a valid store id (non-empty, no NUL, at most 256 UTF-8 bytes)
 * @param seq the position in the lane (positive; usually the event seq)
 * @param jobId deterministic, URL-safe, unique id; also the delivery id receivers deduplicate on
 * @param kind what the job does ({@code webhook}, {@code push_fanout}, {@code push})
 * @param target the endpoint id, push target id or user id the job is for
 * @param payload the bytes to deliver (JSON), or a kind-specific reference
 * @param attempts failed attempts so far
 * @param nextAttemptAtMs earliest time of the next attempt, ms since the epoch
 * @param lastError the last attempt's error ("" before the first failure)
 */
public record OutboxJob(
    String lane,
    long seq,
    String jobId,
    String kind,
    String target,
    byte[] payload,
    int attempts,
    long nextAttemptAtMs,
    String lastError,
    long createdAtMs) {
  public OutboxJob {
    Objects.requireNonNull(lane, "lane");
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(lastError, "lastError");
  }

  /** This job after a failed attempt: one more attempt counted, due again at {@code atMs}. */
  public OutboxJob failed(String error, long atMs) {
    return new OutboxJob(
        lane, seq, jobId, kind, target, payload, attempts + 1, atMs, error, createdAtMs);
  }

  /** This job postponed to {@code atMs} without counting an attempt (breaker open, throttled). */
  public OutboxJob postponed(long atMs, String reason) {
    return new OutboxJob(
        lane, seq, jobId, kind, target, payload, attempts, atMs, reason, createdAtMs);
  }

  /** This job reset for a manual replay: no attempts, due at {@code atMs}. */
  public OutboxJob replayed(long atMs) {
    return new OutboxJob(lane, seq, jobId, kind, target, payload, 0, atMs, lastError, createdAtMs);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OutboxJob j
        && lane.equals(j.lane)
        && seq == j.seq
        && jobId.equals(j.jobId)
        && kind.equals(j.kind)
        && target.equals(j.target)
        && java.util.Arrays.equals(payload, j.payload)
        && attempts == j.attempts
        && nextAttemptAtMs == j.nextAttemptAtMs
        && lastError.equals(j.lastError)
        && createdAtMs == j.createdAtMs;
  }

  @Override
  public int hashCode() {
    return Objects.hash(lane, seq, jobId);
  }

  @Override
  public String toString() {
    return "OutboxJob[" + jobId + " " + kind + " lane=" + lane + " seq=" + seq + " attempts="
        + attempts + "]";
  }
}

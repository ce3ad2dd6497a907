package io.parley.server.limits;

import io.github.bucket4j.TimeMeter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.protocol.v1.ErrorCode;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.ParleyException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The request-rate policy of a node ({@code rate_limits.*}): for each {@link LimitedAction} one
 * limit per user (per admin key for {@link LimitedAction#ADMIN}) and one per client address.
 *
 * <p>The user's bucket is asked first, so a user who floods is refused on their own bucket and
 * does not drain the address's bucket that their neighbours behind the same NAT share; when the
 * address's bucket refuses, the token taken from the user's bucket is given back. Refusals count
 * in {@code parley_rate_limited_total{action, scope}}. Thread-safe.
 */
public final class RateLimiter {
  /** The scope label of a refusal by the per-user (or per-key) bucket. */
  public static final String USER = "user";
  /** The scope label of a refusal by the per-address bucket. */
  public static final String ADDRESS = "ip";

  private final boolean enabled;
  private final Map<LimitedAction, KeyedRateLimiter> perUser = new EnumMap<>(LimitedAction.class);
  private final Map<LimitedAction, KeyedRateLimiter> perAddress = new EnumMap<>(LimitedAction.class);
  private final Map<LimitedAction, Counter[]> refusals = new EnumMap<>(LimitedAction.class);

  /** The production policy, on the system clock. */
  public RateLimiter(ParleyConfig.RateLimits config, MeterRegistry meters) {
    this(config, meters, TimeMeter.SYSTEM_NANOTIME);
  }

  /** A policy on the given clock (tests). */
  public RateLimiter(ParleyConfig.RateLimits config, MeterRegistry meters, TimeMeter clock) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(meters, "meters");
    Objects.requireNonNull(clock, "clock");
    this.enabled = config.enabled();
    int max = config.maxTrackedKeys();
    put(LimitedAction.SEND, config.sendPerUser(), config.sendPerIp(), max, clock);
    put(LimitedAction.TYPING, config.typingPerUser(), config.typingPerIp(), max, clock);
    put(LimitedAction.PRESENCE, config.presencePerUser(), config.presencePerIp(), max, clock);
    put(LimitedAction.JOIN, config.joinPerUser(), config.joinPerIp(), max, clock);
    put(LimitedAction.ADMIN, config.adminPerKey(), config.adminPerIp(), max, clock);
    for (LimitedAction a : LimitedAction.values()) {
      refusals.put(
          a,
          new Counter[] {
            counter(meters, a, USER), counter(meters, a, ADDRESS),
          });
    }
  }

  /** A policy that allows everything (tests and tools that flood on purpose). */
  public static RateLimiter unlimited() {
    return new RateLimiter(ParleyConfig.RateLimits.disabled(), new SimpleMeterRegistry());
  }

  /**
   * Takes a token for one request from the user's and the address's buckets.
   *
   * @param userKey the user id (for {@link LimitedAction#ADMIN}: a stable name of the key)
   * @param addressKey the client address as {@link ClientAddresses} keys it
   * @return empty when the request may go ahead, else the {@code RATE_LIMITED} error to answer
   *     with, its {@code retry_after_ms} taken from the refusing bucket
   */
  public Optional<ParleyException> tryAcquire(
      LimitedAction action, String userKey, String addressKey) {
    if (!enabled) {
      return Optional.empty();
    }
    KeyedRateLimiter user = perUser.get(action);
    long wait = user.tryAcquire(userKey);
    if (wait > 0) {
      refusals.get(action)[0].increment();
      return Optional.of(refused(action, "you", wait));
    }
    wait = perAddress.get(action).tryAcquire(addressKey);
    if (wait > 0) {
      user.refund(userKey);
      refusals.get(action)[1].increment();
      return Optional.of(refused(action, "your network address", wait));
    }
    return Optional.empty();
  }

  /** Takes a token from the address's bucket only (requests not yet tied to a user or key). */
  public Optional<ParleyException> tryAcquireAddress(LimitedAction action, String addressKey) {
    if (!enabled) {
      return Optional.empty();
    }
    long wait = perAddress.get(action).tryAcquire(addressKey);
    if (wait > 0) {
      refusals.get(action)[1].increment();
      return Optional.of(refused(action, "your network address", wait));
    }
    return Optional.empty();
  }

  /** Takes a token from the user's (or key's) bucket only. */
  public Optional<ParleyException> tryAcquireUser(LimitedAction action, String userKey) {
    if (!enabled) {
      return Optional.empty();
    }
    long wait = perUser.get(action).tryAcquire(userKey);
    if (wait > 0) {
      refusals.get(action)[0].increment();
      return Optional.of(refused(action, "you", wait));
    }
    return Optional.empty();
  }

  private static ParleyException refused(LimitedAction action, String who, long waitMs) {
    return new ParleyException(
        ErrorCode.RATE_LIMITED,
        "too many " + action.label() + " requests from " + who + "; retry in " + waitMs + " ms",
        waitMs);
  }

  private void put(
      LimitedAction action,
      ParleyConfig.Rate user,
      ParleyConfig.Rate address,
      int maxKeys,
      TimeMeter clock) {
    perUser.put(action, new KeyedRateLimiter(user, maxKeys, clock));
    perAddress.put(action, new KeyedRateLimiter(address, maxKeys, clock));
  }

  private static Counter counter(MeterRegistry meters, LimitedAction action, String scope) {
    return Counter.builder("parley.rate.limited")
        .description("requests refused with RATE_LIMITED by a rate limit")
        .tag("action", action.label())
        .tag("scope", scope)
        .register(meters);
  }
}

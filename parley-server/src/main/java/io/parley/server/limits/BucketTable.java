package io.parley.server.limits;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import io.parley.server.config.ParleyConfig;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The token buckets of one rate limit, one per key (user id or client address), held in a bounded
 * map that forgets the least recently used keys.
 *
 * <p>Why a hand-written map: Bucket4j keeps keyed buckets only through its distributed proxy
 * managers (or the Caffeine integration, which is not a dependency here), and a bucket is cheap to
 * recreate. Forgetting a bucket that has been idle for a whole period changes nothing, because
 * greedy refill has filled it again by then, and a new bucket starts full; idle buckets are
 * therefore dropped as they are met at the old end of the access order. When more than {@code
 * maxKeys} keys are active within one period, the least recently used one is dropped early, which
 * can only make the limit more lenient for that key, never stricter; the bound keeps memory fixed
 * however many addresses or users a flood uses.
 *
 * <p>Thread-safe: the keys are split over {@value #STRIPES} independently locked LRU maps so that
 * event loops rarely contend; a bucket itself is lock-free.
 */
final class BucketTable {
  static final int STRIPES = 16;

  private final ParleyConfig.Rate rate;
  private final TimeMeter clock;
  private final long idleNanos;
  private final Stripe[] stripes = new Stripe[STRIPES];

  BucketTable(ParleyConfig.Rate rate, int maxKeys, TimeMeter clock) {
    if (rate.isOff()) {
      throw new IllegalArgumentException("an unlimited rate needs no buckets");
    }
    this.rate = rate;
    this.clock = clock;
    this.idleNanos = rate.period().toNanos();
    int perStripe = Math.max(1, maxKeys / STRIPES);
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe(perStripe);
    }
  }

  /** The bucket of a key, created full on first use. */
  Bucket bucket(String key) {
    return stripes[(key.hashCode() & 0x7fffffff) % STRIPES].bucket(key);
  }

  /** The number of keys currently remembered (tests, diagnostics). */
  int size() {
    int n = 0;
    for (Stripe s : stripes) {
      n += s.size();
    }
    return n;
  }

  private Bucket newBucket() {
    return Bucket.builder()
        .addLimit(l -> l.capacity(rate.permits()).refillGreedy(rate.permits(), rate.period()))
        .withCustomTimePrecision(clock)
        .build();
  }

  private static final class Slot {
    final Bucket bucket;
    long lastUsedNanos;

    Slot(Bucket bucket) {
      this.bucket = bucket;
    }
  }

  private final class Stripe {
    private final int maxKeys;
    private final LinkedHashMap<String, Slot> slots = new LinkedHashMap<>(16, 0.75f, true);

    Stripe(int maxKeys) {
      this.maxKeys = maxKeys;
    }

    synchronized Bucket bucket(String key) {
      long now = clock.currentTimeNanos();
      Slot slot = slots.get(key);
      if (slot == null) {
        slot = new Slot(newBucket());
        slots.put(key, slot);
      }
      slot.lastUsedNanos = now;
      evict(now);
      return slot.bucket;
    }

    synchronized int size() {
      return slots.size();
    }

    /** Drops idle (hence full) buckets from the old end, then whatever exceeds the bound. */
    private void evict(long now) {
      Iterator<Map.Entry<String, Slot>> it = slots.entrySet().iterator();
      while (it.hasNext()) {
        Slot eldest = it.next().getValue();
        boolean idle = now - eldest.lastUsedNanos >= idleNanos;
        if (!idle && slots.size() <= maxKeys) {
          return;
        }
        it.remove();
      }
    }
  }
}

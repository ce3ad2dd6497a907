package io.parley.server.store.resilience;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.parley.server.config.ParleyConfig;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.ParleyStoreConformanceTest;
import io.parley.server.store.rocksdb.EngineTestStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decorated store must still be a {@link ParleyStore} in every respect: the whole conformance
 * suite over a real RocksDB store behind closed breakers (the window is larger than any test's
 * number of failures, so the breakers never open here; opening is {@link CircuitBreakingStoreTest}).
 */
class CircuitBreakingStoreConformanceTest extends ParleyStoreConformanceTest {
  @TempDir Path dataDir;
  private final AtomicInteger commitsToFail = new AtomicInteger();

  @Override
  protected ParleyStore openStore() {
    return CircuitBreakingStore.wrap(
        EngineTestStores.openFailing(
            dataDir, () -> commitsToFail.getAndUpdate(n -> Math.max(0, n - 1)) > 0),
        new ParleyConfig.StoreBreaker(100, 10_000, Duration.ofSeconds(1)),
        new SimpleMeterRegistry());
  }

  @Override
  protected void failNextCommit() {
    commitsToFail.incrementAndGet();
  }
}

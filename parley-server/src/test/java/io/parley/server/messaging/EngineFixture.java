package io.parley.server.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.parley.protocol.v1.ErrorCode;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import io.parley.server.bus.BusMessage;
import io.parley.server.bus.local.LocalEventBus;
import io.parley.server.config.ParleyConfig;
import io.parley.server.core.Caller;
import io.parley.server.core.ParleyException;
import io.parley.server.store.ParleyStore;
import io.parley.server.store.StoredEvent;
import io.parley.server.store.rocksdb.RocksDbStore;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A real engine over a real RocksDB store in a test directory, plus a recorder of everything
 * published on the bus. Reopenable to test restarts.
 */
public final class EngineFixture implements AutoCloseable {
  public static final ParleyConfig.Limits LIMITS =
      new ParleyConfig.Limits(65_536, 4_096, 8, 20, 50, 64, 1 << 20, 1_000, 20, 1_000);

  private final Path dir;
  private final ParleyConfig.Limits limits;
  private final Function<Path, ParleyStore> opener;
  public final List<BusMessage> published = new CopyOnWriteArrayList<>();
  private ParleyStore store;
  private LocalEventBus bus;
  private EngineModule engine;

  public EngineFixture(Path dir) {
    this(dir, LIMITS, data -> RocksDbStore.open(data, false, 64));
  }

  /** @param opener opens the store on the given data directory (at start and on restart) */
  public EngineFixture(Path dir, ParleyConfig.Limits limits, Function<Path, ParleyStore> opener) {
    this.dir = dir;
    this.limits = limits;
    this.opener = opener;
    open();
  }

  private void open() {
    store = opener.apply(dir.resolve("data"));
    bus = new LocalEventBus();
    bus.subscribe(published::add);
    engine = EngineModule.create(store, bus, limits, 2, Clock.systemUTC());
  }

  /** Closes engine and store, then opens both again on the same directory. */
  public void restart() {
    close();
    published.clear();
    open();
  }

  public EngineModule engine() {
    return engine;
  }

  public ParleyStore store() {
    return store;
  }

  public static Caller user(String id) {
    return Caller.user(id, "dev-" + id);
  }

  /** Creates users through the admin path. */
  public void users(String... ids) {
    for (String id : ids) {
      await(engine.users().upsert(id, "", ""));
    }
  }

  public SendResult send(String user, String conversationId, String clientMsgId, String body) {
    return await(engine.messages().send(user(user), message(conversationId, clientMsgId, body)));
  }

  public static SendMessage message(String conversationId, String clientMsgId, String body) {
    return SendMessage.newBuilder()
        .setConversationId(conversationId)
        .setClientMsgId(clientMsgId)
        .setContentType("text/plain")
        .setBody(ByteString.copyFrom(body, StandardCharsets.UTF_8))
        .build();
  }

  /** Every event of a conversation's stored log, ascending. */
  public List<Event> log(String conversationId) {
    List<Event> out = new ArrayList<>();
    for (StoredEvent e : store.events(conversationId, 1, Long.MAX_VALUE, 100_000, true)) {
      out.add(e.event());
    }
    return out;
  }

  /** Committed events published for one conversation, in publication order. */
  public List<Event> publishedEvents(String conversationId) {
    List<Event> out = new ArrayList<>();
    for (BusMessage m : published) {
      if (m instanceof BusMessage.CommittedEvents c && c.conversationId().equals(conversationId)) {
        out.addAll(c.events());
      }
    }
    return out;
  }

  public static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("operation failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("operation did not complete", e);
    }
  }

  /** The typed failure of a future that must fail. */
  public static ParleyException failure(CompletableFuture<?> f) {
    try {
      Object v = f.get(20, TimeUnit.SECONDS);
      return fail("expected a failure but got " + v);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ParleyException.class);
      return (ParleyException) e.getCause();
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("operation did not complete", e);
    }
  }

  public static ErrorCode code(CompletableFuture<?> f) {
    return failure(f).code();
  }

  @Override
  public void close() {
    engine.close();
    bus.close();
    store.close();
  }
}

package io.parley.client.testing;

import io.parley.client.ConnectionState;
import io.parley.client.ParleyClientException;
import io.parley.client.ParleyListener;
import io.parley.protocol.v1.Conversation;
import io.parley.protocol.v1.Event;
import io.parley.protocol.v1.SendMessage;
import io.parley.protocol.v1.SendResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Records every callback, and the threads they ran on, for assertions. Thread-safe. */
public final class RecordingListener implements ParleyListener {
  public final List<Event> events = new CopyOnWriteArrayList<>();
  public final List<ConnectionState> states = new CopyOnWriteArrayList<>();
  public final List<ParleyClientException> errors = new CopyOnWriteArrayList<>();
  public final List<SendMessage> sendsCompleted = new CopyOnWriteArrayList<>();
  public final List<SendResult> sendResults = new CopyOnWriteArrayList<>();
  public final List<SendMessage> sendsFailed = new CopyOnWriteArrayList<>();
  public final List<Conversation> conversations = new CopyOnWriteArrayList<>();
  public final List<String> threads = new CopyOnWriteArrayList<>();
  public final AtomicInteger syncs = new AtomicInteger();

  private void thread() {
    threads.add(Thread.currentThread().getName());
  }

  @Override
  public void onEvent(Event event) {
    thread();
    events.add(event);
  }

  @Override
  public void onConnectionStateChanged(ConnectionState state) {
    thread();
    states.add(state);
  }

  @Override
  public void onConversation(Conversation conversation) {
    thread();
    conversations.add(conversation);
  }

  @Override
  public void onSynced() {
    thread();
    syncs.incrementAndGet();
  }

  @Override
  public void onSendCompleted(SendMessage message, SendResult result) {
    thread();
    sendsCompleted.add(message);
    sendResults.add(result);
  }

  @Override
  public void onSendFailed(SendMessage message, ParleyClientException error) {
    thread();
    sendsFailed.add(message);
  }

  @Override
  public void onError(ParleyClientException error) {
    thread();
    errors.add(error);
  }

  /** The bodies of the messages posted in a conversation, in delivery order. */
  public List<String> messages(String conversationId) {
    List<String> out = new ArrayList<>();
    for (Event e : events) {
      if (e.getConversationId().equals(conversationId) && e.hasMessagePosted()) {
        out.add(e.getMessagePosted().getBody().toStringUtf8());
      }
    }
    return out;
  }

  /** The seqs delivered for a conversation, in delivery order. */
  public List<Long> seqs(String conversationId) {
    List<Long> out = new ArrayList<>();
    for (Event e : events) {
      if (e.getConversationId().equals(conversationId)) {
        out.add(e.getSeq());
      }
    }
    return out;
  }
}

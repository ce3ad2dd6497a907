package io.parley.client.examples;

import io.parley.client.ParleyClient;
import io.parley.client.ParleyListener;
import io.parley.protocol.v1.Event;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** Sends a message to a user, then prints every message that arrives for a while. */
public final class SendAndReceive {
  public static void main(String[] args) throws InterruptedException {
    String uri = args[0]; // e.g. ws://localhost:8080/v1/ws
    String token = args[1]; // a JWT for the sender, e.g. `./parley token --user alice`
    String peer = args[2]; // the user to talk to
    long listenSeconds = args.length > 3 ? Long.parseLong(args[3]) : 30;

    ParleyClient client =
        ParleyClient.builder()
            .uri(uri)
            .tokenProvider(reason -> CompletableFuture.completedFuture(token))
            .stateDirectory(Path.of("parley-state"))
            .listener(
                new ParleyListener() {
                  @Override
                  public void onEvent(Event event) {
                    if (event.hasMessagePosted()) {
                      String text = event.getMessagePosted().getBody().toStringUtf8();
                      System.out.println(event.getActorUserId() + ": " + text);
                    }
                  }
                })
            .build();

    byte[] hello = "Hello from Java".getBytes(StandardCharsets.UTF_8);
    client
        .connect()
        .thenCompose(connected -> client.openDirect(peer))
        .thenCompose(direct -> client.send(direct.getConversation().getId(), "text/plain", hello))
        .thenAccept(sent -> System.out.println("sent as seq " + sent.getSeq()))
        .join();
    Thread.sleep(listenSeconds * 1000);
    client.closeAsync().join();
  }
}

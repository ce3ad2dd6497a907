package io.parley.server.notify.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.parley.server.notify.EndpointBreakers;
import io.parley.server.notify.PushMessage;
import io.parley.server.notify.PushResult;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The APNs provider against a local TLS server that speaks only HTTP/2 (ALPN h2) and checks
 * requests as Apple documents them: {@code POST /3/device/<token>}, a provider JWT (ES256, kid,
 * iss = team) verified with the key's public half, apns-topic, apns-push-type, a UUID apns-id,
 * a collapse id of at most 64 bytes, a payload of at most 4096 bytes with {@code aps.badge};
 * answers 410 Unregistered for one token and 400 BadDeviceToken for another.
 */
class ApnsPushProviderIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TEAM = "TEAM123456";
  private static final String KEY_ID = "KEY1234567";
  private static final String TOPIC = "com.example.parley";

  @TempDir Path dir;
  private EventLoopGroup group;
  private Channel serverChannel;
  private final List<JsonNode> accepted = new CopyOnWriteArrayList<>();
  private final List<String> problems = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws Exception {
    if (serverChannel != null) {
      serverChannel.close().sync();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void sendsOverHttp2WithAProviderTokenAndClassifiesApnsAnswers() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair apnsKey = gen.generateKeyPair();
    KeyStore tls = tlsKeyStore();
    int port = startServer(tls, (ECPublicKey) apnsKey.getPublic());

    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(tls);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient http = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_2).build();
    ApnsPushProvider apns =
        new ApnsPushProvider(
            (ECPrivateKey) apnsKey.getPrivate(),
            KEY_ID,
            TEAM,
            TOPIC,
            URI.create("https://127.0.0.1:" + port),
            http,
            new EndpointBreakers(Duration.ofSeconds(30), new SimpleMeterRegistry()),
            Duration.ofSeconds(10),
            Clock.systemUTC());

    PushResult ok = apns.send(message("a1b2c3d4e5f60718293a4b5c6d7e8f90")).get();
    PushResult gone = apns.send(message("dead00000000000000000000000000ff")).get();
    PushResult bad = apns.send(message("bad0000000000000000000000000000f")).get();
    PushResult notHex = apns.send(message("not a token")).get();

    assertThat(problems).isEmpty();
    assertThat(ok).isInstanceOf(PushResult.Sent.class);
    assertThat(gone).isInstanceOf(PushResult.InvalidToken.class);
    assertThat(bad).isInstanceOf(PushResult.InvalidToken.class);
    assertThat(notHex).isInstanceOf(PushResult.InvalidToken.class);
    assertThat(accepted).hasSize(1);
    JsonNode aps = accepted.get(0).path("aps");
    assertThat(aps.path("badge").asLong()).isEqualTo(3);
    assertThat(aps.path("alert").path("body").asText()).isEqualTo("New message");
  }

  private static PushMessage message(String token) {
    return new PushMessage(
        "psh_" + UUID.randomUUID(), "bob", "bob-iphone", "pt_1", token, "g1", 7, "m1", "Trip",
        "New message", 3);
  }

  private KeyStore tlsKeyStore() throws Exception {
    Path store = dir.resolve("tls.p12");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "apns", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1", "-validity", "2",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new AssertionError("keytool failed: " + out);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(store.toFile())) {
      ks.load(in, "changeit".toCharArray());
    }
    return ks;
  }

  private int startServer(KeyStore tls, ECPublicKey providerKey) throws Exception {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(tls, "changeit".toCharArray());
    SslContext ssl =
        SslContextBuilder.forServer(kmf)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2))
            .build();
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    serverChannel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(ssl.newHandler(ch.alloc()))
                        .addLast(Http2FrameCodecBuilder.forServer().build())
                        .addLast(
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Channel>() {
                                  @Override
                                  protected void initChannel(Channel stream) {
                                    stream.pipeline().addLast(new ApnsStream(providerKey));
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** One HTTP/2 stream: collects the request, checks it, answers like APNs. */
  private final class ApnsStream extends ChannelInboundHandlerAdapter {
    private final ECPublicKey providerKey;
    private Http2Headers headers;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    ApnsStream(ECPublicKey providerKey) {
      this.providerKey = providerKey;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      boolean end = false;
      if (msg instanceof Http2HeadersFrame h) {
        headers = h.headers();
        end = h.isEndStream();
      } else if (msg instanceof Http2DataFrame d) {
        ByteBuf c = d.content();
        byte[] b = new byte[c.readableBytes()];
        c.readBytes(b);
        body.write(b);
        end = d.isEndStream();
        d.release();
      }
      if (end) {
        respond(ctx);
      }
    }

    private void respond(ChannelHandlerContext ctx) {
      int status;
      String reason = null;
      try {
        String path = headers.path().toString();
        String auth = String.valueOf(headers.get("authorization"));
        SignedJWT jwt = SignedJWT.parse(auth.substring("bearer ".length()));
        boolean valid =
            "POST".contentEquals(headers.method())
                && path.startsWith("/3/device/")
                && jwt.verify(new ECDSAVerifier(providerKey))
                && jwt.getHeader().getAlgorithm().getName().equals("ES256")
                && KEY_ID.equals(jwt.getHeader().getKeyID())
                && TEAM.equals(jwt.getJWTClaimsSet().getIssuer())
                && jwt.getJWTClaimsSet().getIssueTime() != null
                && TOPIC.contentEquals(headers.get("apns-topic"))
                && "alert".contentEquals(headers.get("apns-push-type"))
                && UUID.fromString(headers.get("apns-id").toString()) != null
                && headers.get("apns-collapse-id").toString().getBytes(StandardCharsets.UTF_8).length <= 64
                && body.size() <= 4096;
        if (!valid) {
          problems.add("invalid request " + headers);
          status = 400;
          reason = "BadRequest";
        } else if (path.endsWith("dead00000000000000000000000000ff")) {
          status = 410;
          reason = "Unregistered";
        } else if (path.endsWith("bad0000000000000000000000000000f")) {
          status = 400;
          reason = "BadDeviceToken";
        } else {
          accepted.add(JSON.readTree(body.toByteArray()));
          status = 200;
        }
      } catch (Exception e) {
        problems.add(e.toString());
        status = 400;
        reason = "BadRequest";
      }
      Http2Headers out = new DefaultHttp2Headers().status(Integer.toString(status));
      out.add("apns-id", headers.get("apns-id") == null ? "" : headers.get("apns-id"));
      if (reason == null) {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(out, true));
      } else {
        ctx.write(new DefaultHttp2HeadersFrame(out, false));
        ctx.writeAndFlush(
            new DefaultHttp2DataFrame(
                Unpooled.copiedBuffer("{\"reason\":\"" + reason + "\"}", StandardCharsets.UTF_8), true));
      }
    }
  }
}

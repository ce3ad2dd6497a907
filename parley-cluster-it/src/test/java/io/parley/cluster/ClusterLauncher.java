package io.parley.cluster;

import io.parley.server.testing.CassandraTestCluster;
import io.parley.server.testing.ForkedServer;
import io.parley.server.testing.KafkaTestBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the cluster of the cluster tests by hand, for benchmarks ({@code bench/run-cluster.sh}):
 * a forked Kafka broker and Cassandra node, engines, two gateway processes and HAProxy, until
 * the process gets SIGTERM. Prints {@code READY <load balancer port> <gateway 1 port> <gateway 2
 * port> <engine port> <engine pid>...} (a port and pid per engine) once everything serves. First argument:
 * {@code 1} puts only gateway 1 behind HAProxy (both server lines point to it), {@code 2} (default)
 * both gateways; second argument: the number of engine processes (default 1).
 */
public final class ClusterLauncher {
  private ClusterLauncher() {}

  public static void main(String[] args) throws Exception {
    int gateways = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int engines = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    Path dir = Files.createTempDirectory("parley-cluster-");
    KafkaTestBroker kafka = KafkaTestBroker.start();
    CassandraTestCluster cassandra = CassandraTestCluster.start();
    Cluster cluster = Cluster.start(dir, kafka, cassandra, "bench", gateways, engines);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  cluster.close();
                  kafka.close();
                  cassandra.close();
                  stop.countDown();
                }));
    StringBuilder ready =
        new StringBuilder("READY ")
            .append(cluster.loadBalancer().port()).append(' ')
            .append(cluster.gateway(0).port()).append(' ')
            .append(cluster.gateway(1).port());
    for (ForkedServer e : cluster.engines()) {
      ready.append(' ').append(e.port()).append(' ').append(e.pid());
    }
    System.out.println(ready);
    System.out.flush();
    stop.await();
  }
}

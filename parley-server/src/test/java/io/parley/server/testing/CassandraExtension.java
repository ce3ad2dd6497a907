package io.parley.server.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a {@link CassandraTestCluster} parameter (constructor, lifecycle or test method).
 * The node is started once per test run, kept in the root extension store and closed (destroyed)
 * when the run ends, so every Cassandra test class shares one node.
 */
public final class CassandraExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(CassandraExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == CassandraTestCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .computeIfAbsent(
            CassandraTestCluster.class, k -> CassandraTestCluster.start(), CassandraTestCluster.class);
  }
}

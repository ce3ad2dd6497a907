package io.parley.server.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a {@link KafkaTestBroker} parameter (constructor, lifecycle or test method).
 * The broker is started once per test run, kept in the root extension store and closed (destroyed)
 * when the run ends, so every Kafka test class shares one broker.
 */
public final class KafkaExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KafkaTestBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .computeIfAbsent(
            KafkaTestBroker.class, k -> KafkaTestBroker.start(), KafkaTestBroker.class);
  }
}

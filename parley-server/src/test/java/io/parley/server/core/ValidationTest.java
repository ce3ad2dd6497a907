package io.parley.server.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ValidationTest {
  @Test
  void userIdsArePrintableWithoutWhitespaceAndBounded() {
    assertThat(Validation.isValidUserId("alice")).isTrue();
    assertThat(Validation.isValidUserId("auth0|5f7c8ec7c33c6c004bbafe82")).isTrue();
    assertThat(Validation.isValidUserId("ünïcødé-用户")).isTrue();
    assertThat(Validation.isValidUserId("a".repeat(128))).isTrue();
    assertThat(Validation.isValidUserId("a".repeat(129))).isFalse();
    assertThat(Validation.isValidUserId("")).isFalse();
    assertThat(Validation.isValidUserId(null)).isFalse();
    assertThat(Validation.isValidUserId("a b")).isFalse();
    assertThat(Validation.isValidUserId("a\tb")).isFalse();
    assertThat(Validation.isValidUserId("a\u00a0b")).isFalse();
    assertThat(Validation.isValidUserId("a\u200bb")).isFalse();
    assertThat(Validation.isValidUserId("a\u0000")).isFalse();
    assertThat(Validation.isValidUserId("a\ud800")).isFalse();
    assertThat(Validation.isValidUserId("用".repeat(100))).as("300 UTF-8 bytes").isFalse();
  }

  @Test
  void idsFitTheStoreKeyBounds() {
    assertThat(Validation.requireId("id", "g_123")).isEqualTo("g_123");
    assertThatThrownBy(() -> Validation.requireId("id", "")).isInstanceOf(ParleyException.class);
    assertThatThrownBy(() -> Validation.requireId("id", "x\u0000")).isInstanceOf(ParleyException.class);
    assertThatThrownBy(() -> Validation.requireId("id", "\udc00")).isInstanceOf(ParleyException.class);
    assertThatThrownBy(() -> Validation.requireId("id", "用".repeat(90))).isInstanceOf(ParleyException.class);
    assertThat(Validation.requireId("id", "😀".repeat(64))).hasSize(128);
  }
}

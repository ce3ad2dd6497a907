package io.parley.server.messaging;

import io.parley.protocol.v1.ConversationMetadata;
import io.parley.server.core.ParleyException;
import io.parley.server.core.Validation;

/**
 * Bounds of conversation metadata: title 256 chars, description 4096 chars, avatar URL 2048
 * chars, application data 4 KiB, a known push preview value. Stateless; thread-safe.
 */
final class MetadataRules {
  static final int MAX_TITLE = 256;
  static final int MAX_DESCRIPTION = 4096;
  static final int MAX_AVATAR_URL = 2048;
  static final int MAX_APP_DATA = 4096;

  private MetadataRules() {}

  static ConversationMetadata validate(ConversationMetadata m) {
    Validation.maxChars("metadata.title", m.getTitle(), MAX_TITLE);
    Validation.maxChars("metadata.description", m.getDescription(), MAX_DESCRIPTION);
    Validation.maxChars("metadata.avatar_url", m.getAvatarUrl(), MAX_AVATAR_URL);
    if (m.getAppData().size() > MAX_APP_DATA) {
      throw ParleyException.badRequest(
          "metadata.app_data is larger than " + MAX_APP_DATA + " bytes");
    }
    if (m.getPushPreview() == io.parley.protocol.v1.PushPreview.UNRECOGNIZED) {
      throw ParleyException.badRequest("metadata.push_preview is not a known value");
    }
    return m;
  }
}

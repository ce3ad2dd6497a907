package io.parley.server.notify;

/**
 * One push notification for one device, as handed to a {@link PushProvider}.
 *
 * @param pushId the job id: stable across retries, used as the provider's idempotency or
 *     collapse key where it has one
 * @param token the provider's device token
 * @param title the notification title (sender or conversation name)
 * @param body the preview text, or "New message" for opaque bodies and when previews are off
 * @param badge the user's exact unread total when the push was prepared
 */
public record PushMessage(
    String pushId,
    String userId,
    String deviceId,
    String targetId,
    String token,
    String conversationId,
    long seq,
    String messageId,
    String title,
    String body,
    long badge) {}

/**
 * Notifications: the durable outbox, webhooks to the app's backend and push to offline devices.
 * See docs/notifications.md.
 */
package io.parley.server.notify;

/** Push provider implementations of {@link io.parley.server.notify.PushProvider}. */
package io.parley.server.notify.push;

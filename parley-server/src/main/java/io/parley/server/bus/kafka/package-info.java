/**
 * The Kafka implementation of the cluster transport: gateways send the requests of their clients'
 * sessions to the engines through a command topic keyed by conversation (or user), and engines
 * route committed events and signals back only to the gateways that registered interest. See
 * docs/architecture.md, "Cluster".
 */
package io.parley.server.bus.kafka;

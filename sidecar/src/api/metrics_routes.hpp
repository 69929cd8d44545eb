/*
 * GET /metrics: the Prometheus scrape endpoint (text exposition format 0.0.4). Public, like the seed's: it
 * shows aggregate counts and process figures, no tenant data, but it should be reachable only from the
 * monitoring network (bind the sidecar to a private address or filter /metrics at the proxy).
 *
 * What a scrape returns, every family prefixed "telecom_billing_" (http/metrics.hpp):
 *   http_request_duration_seconds, http_requests_total   the router's count of every response (Metrics)
 *   db_connection_pool{status=active|idle[|waiting]}, db_connection_pool_size
 *   active_subscriptions{plan}, customers_total{status}, cdr_processed_total{status},
 *   invoices_generated_total{type,status}                 read at scrape time in one statement
 *                                                         (balatrix.api_metrics(), one snapshot)
 *   business_metrics_up                                   1 when that statement answered, else 0 and the
 *                                                         business families are left out (the scrape still
 *                                                         succeeds, so the process and HTTP figures keep flowing
 *                                                         while the database is down)
 *   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 *   process_start_time_seconds, process_open_fds, process_max_fds
 *   build_info{version}
 */
#pragma once

#include <string>

#include "api/registry.hpp"
#include "http/metrics.hpp"

namespace balatrix::sidecar::api {

// Registers GET /metrics. `metrics` is the object the Router feeds (RouterOptions::metrics); it must outlive
// the Router's HTTP handlers. `version` is reported in build_info.
void RegisterMetricsRoutes(Registry& registry, http::Metrics& metrics, std::string version = "");

} // namespace balatrix::sidecar::api

#include "service/health_service.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace balatrix::sidecar::service {
namespace {

using testing::FakeDatabaseProbe;

class ThrowingProbe final : public DatabaseProbe {
public:
	ProbeResult
	Check() override
	{
		throw std::runtime_error("contract violated");
	}
};

TEST(HealthService, LivenessReportsUptimeFromTheInjectedClock)
{
	FakeDatabaseProbe probe;
	auto now = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
	HealthService health(probe, "1.2.3", [&now] { return now; });

	EXPECT_EQ(health.Live().uptime_seconds, 0);
	now += std::chrono::seconds(90) + std::chrono::milliseconds(999);
	const Liveness live = health.Live();
	EXPECT_EQ(live.uptime_seconds, 90);
	EXPECT_EQ(live.service, "balatrix-sidecar");
	EXPECT_EQ(live.version, "1.2.3");
	EXPECT_EQ(probe.calls(), 0) << "liveness must not touch the database";
}

TEST(HealthService, ReadyWhenTheDatabaseAnswersAndTheExtensionIsInstalled)
{
	FakeDatabaseProbe probe;
	probe.Set(FakeDatabaseProbe::Healthy("0.1.0"));
	HealthService health(probe, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_TRUE(readiness.ready);
	EXPECT_TRUE(readiness.reason.empty());
	EXPECT_EQ(readiness.database.extension_version, "0.1.0");
	EXPECT_EQ(probe.calls(), 1);
}

TEST(HealthService, NotReadyWithoutTheExtension)
{
	FakeDatabaseProbe probe;
	ProbeResult result = FakeDatabaseProbe::Healthy();
	result.extension_version.reset();
	probe.Set(result);
	HealthService health(probe, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_EQ(readiness.reason, "the balatrix extension is not installed in the database");
}

TEST(HealthService, NotReadyWhenTheDatabaseIsDownAndSaysWhy)
{
	FakeDatabaseProbe probe;
	probe.Set(FakeDatabaseProbe::Unreachable());
	HealthService health(probe, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_EQ(readiness.reason, "could not connect to the database");
}

TEST(HealthService, AThrowingProbeMeansNotReadyRatherThanAnException)
{
	ThrowingProbe probe;
	HealthService health(probe, "1.2.3");
	Readiness readiness;
	EXPECT_NO_THROW(readiness = health.Ready());
	EXPECT_FALSE(readiness.ready);
	EXPECT_FALSE(readiness.reason.empty());
}

} // namespace
} // namespace balatrix::sidecar::service

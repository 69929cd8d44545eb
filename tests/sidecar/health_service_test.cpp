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
	Lifecycle lifecycle;
	auto now = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
	HealthService health(probe, lifecycle, "1.2.3", [&now] { return now; });

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
	Lifecycle lifecycle;
	probe.Set(FakeDatabaseProbe::Healthy("0.1.0"));
	HealthService health(probe, lifecycle, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_TRUE(readiness.ready);
	EXPECT_TRUE(readiness.reason.empty());
	EXPECT_EQ(readiness.database.extension_version, "0.1.0");
	EXPECT_EQ(probe.calls(), 1);
}

TEST(HealthService, NotReadyWithoutTheExtension)
{
	FakeDatabaseProbe probe;
	Lifecycle lifecycle;
	ProbeResult result = FakeDatabaseProbe::Healthy();
	result.extension_version.reset();
	probe.Set(result);
	HealthService health(probe, lifecycle, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_EQ(readiness.reason, "the balatrix extension is not installed in the database");
}

TEST(HealthService, NotReadyWhenTheDatabaseIsDownAndSaysWhy)
{
	FakeDatabaseProbe probe;
	Lifecycle lifecycle;
	probe.Set(FakeDatabaseProbe::Unreachable());
	HealthService health(probe, lifecycle, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_EQ(readiness.reason, "could not connect to the database");
}

TEST(HealthService, AThrowingProbeMeansNotReadyRatherThanAnException)
{
	ThrowingProbe probe;
	Lifecycle lifecycle;
	HealthService health(probe, lifecycle, "1.2.3");
	Readiness readiness;
	EXPECT_NO_THROW(readiness = health.Ready());
	EXPECT_FALSE(readiness.ready);
	EXPECT_FALSE(readiness.reason.empty());
}

TEST(HealthService, DrainingIsNotReadyWithoutAskingTheDatabaseWhileLivenessIsUnchanged)
{
	FakeDatabaseProbe probe;
	probe.Set(FakeDatabaseProbe::Healthy());
	Lifecycle lifecycle;
	HealthService health(probe, lifecycle, "1.2.3");
	ASSERT_TRUE(health.Ready().ready);
	ASSERT_EQ(probe.calls(), 1);

	lifecycle.BeginDraining();
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_TRUE(readiness.draining);
	EXPECT_EQ(readiness.reason, "shutting down");
	EXPECT_EQ(probe.calls(), 1) << "a draining sidecar must not wait on the database to say it is going away";

	const Liveness live = health.Live();
	EXPECT_EQ(live.service, "balatrix-sidecar");
	EXPECT_EQ(live.version, "1.2.3");
}

TEST(HealthService, NotDrainingMeansTheProbeDecides)
{
	FakeDatabaseProbe probe;
	probe.Set(FakeDatabaseProbe::Unreachable());
	Lifecycle lifecycle;
	HealthService health(probe, lifecycle, "1.2.3");
	const Readiness readiness = health.Ready();
	EXPECT_FALSE(readiness.ready);
	EXPECT_FALSE(readiness.draining);
	EXPECT_EQ(readiness.reason, "could not connect to the database");
}

} // namespace
} // namespace balatrix::sidecar::service

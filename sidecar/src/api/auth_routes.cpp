/*
 * /api/auth: registration, login (lockout, MFA), refresh-token rotation with reuse detection, logout,
 * sessions, passwords, e-mail verification, TOTP MFA, /me, and admin-created users.
 *
 * The sidecar hashes passwords (argon2id, crypto/password.hpp), makes tokens (32 random bytes, base64url) and
 * verifies TOTP codes (liboath); the database keeps the state and the audit rows (balatrix.auth_* functions,
 * SECURITY DEFINER: balatrix_api cannot read users or tokens). Refresh, reset and verification tokens are
 * stored as SHA-256 hashes only. Password hashing (~60 ms) runs outside any transaction, so a login never
 * holds a database connection while it hashes.
 *
 * Failures that must be remembered (a bad password counts towards the lockout; a reused refresh token ends
 * its session) commit and then answer 401: CommitThen.
 */
#include <cctype>
#include <string>

#include <spdlog/spdlog.h>

#include "api/registry.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jwt.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "log.hpp"

namespace balatrix::sidecar::api {

namespace {

using http::ErrorCode;
using http::Failure;
using http::Reply;
using http::RequestContext;
using http::StringRule;
using http::Success;
using http::Validator;
using nlohmann::json;

constexpr int kMaxLoginAttempts = 5;
constexpr int kLockoutSeconds = 900;
constexpr std::chrono::seconds kEmailVerificationLifetime{24 * 3600};
constexpr int kBackupCodes = 10;

bool
IsEmail(std::string_view text)
{
	// The users_email_format CHECK: one '@', no spaces, a dot in the domain.
	const auto at = text.find('@');
	if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos)
		return false;
	for (char c : text)
		if (std::isspace(static_cast<unsigned char>(c)))
			return false;
	const std::string_view domain = text.substr(at + 1);
	const auto dot = domain.find('.');
	return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

bool
IsE164(std::string_view text)
{
	if (text.size() < 3 || text.size() > 16 || text[0] != '+' || text[1] < '1' || text[1] > '9')
		return false;
	for (std::size_t i = 1; i < text.size(); ++i)
		if (!std::isdigit(static_cast<unsigned char>(text[i])))
			return false;
	return true;
}

// At least 12 characters with a lower-case letter, an upper-case letter, a digit and something else. Any
// character is allowed (the seed's allow-list only made strong passphrases fail).
bool
IsStrongPassword(std::string_view text)
{
	bool lower = false, upper = false, digit = false, other = false;
	for (unsigned char c : text) {
		if (std::islower(c))
			lower = true;
		else if (std::isupper(c))
			upper = true;
		else if (std::isdigit(c))
			digit = true;
		else
			other = true;
	}
	return lower && upper && digit && other;
}

const StringRule kEmailRule{true, 3, 254, IsEmail, "must be an e-mail address"};
const StringRule kNewPasswordRule{true, 12, 256, IsStrongPassword,
                                  "must have a lower-case letter, an upper-case letter, a digit and a symbol"};
const StringRule kAnyPasswordRule{true, 1, 1024, nullptr, ""};
const StringRule kNameRule{true, 1, 100, nullptr, ""};
const StringRule kTokenRule{true, 16, 200, nullptr, ""};

std::string
HashHex(std::string_view token)
{
	return crypto::Sha256Hex(token);
}

// Backup codes are compared without dashes or case: "abcd-efgh-ij" is "ABCDEFGHIJ".
std::string
NormalizeBackupCode(std::string_view code)
{
	std::string out;
	for (char c : code)
		if (c != '-' && c != ' ')
			out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
	return out;
}

std::string
RateKey(const RequestContext& context)
{
	return ClientIp(context).value_or("unknown");
}

// Runs `body` in a transaction that commits whenever the database calls succeeded, then answers `*outcome`
// (which may be an error: a counted failed login, a detected token reuse).
Reply
CommitThen(const Services& s, const RequestContext& c, const Principal* principal,
           const std::function<Reply(pqxx::transaction_base&)>& body)
{
	Reply outcome;
	const Reply committed = InTransaction(s, c, principal, [&](pqxx::transaction_base& tx) {
		outcome = body(tx);
		return Reply{200, {}, {}};
	});
	if (committed.status != 200)
		return committed;
	return outcome;
}

std::string
IssueAccessToken(const Services& s, const std::string& user_id, Role role, const std::string& session_id)
{
	return s.tokens.Issue(user_id, role, session_id, crypto::NewToken(s.random, 16));
}

json
TokenPair(const Services& s, const std::string& access, const std::string& refresh)
{
	return json{{"accessToken", access},
	            {"refreshToken", refresh},
	            {"tokenType", "Bearer"},
	            {"expiresIn", s.options.access_lifetime.count()},
	            {"refreshExpiresIn", s.options.refresh_lifetime.count()}};
}

long long
Seconds(std::chrono::seconds value)
{
	return static_cast<long long>(value.count());
}

// ---- registration and login -------------------------------------------------------------------------------

Reply
Register(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto email = v.String("email", kEmailRule);
	const auto password = v.String("password", kNewPasswordRule);
	const auto first_name = v.String("firstName", kNameRule);
	const auto last_name = v.String("lastName", kNameRule);
	const auto phone = v.String("phoneNumber", StringRule{false, 3, 16, IsE164, "must be an E.164 number such as +919876543210"});
	const auto company = v.String("companyName", StringRule{false, 1, 200, nullptr, ""});
	// "role" is accepted and ignored: nobody chooses their own role (staff are created by admins).
	v.NoOtherFields({"email", "password", "firstName", "lastName", "phoneNumber", "companyName", "role"});
	if (!v.ok())
		return v.Failure(c);
	if (auto limited = CheckRateLimit(s, c, s.options.registration, RateKey(c)))
		return std::move(*limited);
	const auto hash = s.passwords.Hash(*password);
	if (!hash)
		return Failure(c, ErrorCode::kServiceUnavailable, "Cannot hash the password right now; try again");
	const std::string refresh = crypto::NewToken(s.random);
	const std::string verification = crypto::NewToken(s.random);
	std::string user_id, customer_id, account_id, session_id;
	Reply reply = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		const pqxx::result created =
			tx.exec_params("SELECT user_id, customer_id, account_id FROM balatrix.auth_register($1, $2, $3, $4, $5, $6)",
			               *email, *hash, *first_name, *last_name, phone ? phone->c_str() : nullptr,
			               company ? company->c_str() : nullptr);
		user_id = created[0][0].c_str();
		customer_id = created[0][1].c_str();
		account_id = created[0][2].c_str();
		session_id = tx.exec_params("SELECT balatrix.auth_login_succeeded($1, decode($2, 'hex'), $3, NULL, NULL)",
		                            user_id, HashHex(refresh), Seconds(s.options.refresh_lifetime))[0][0]
		                 .c_str();
		tx.exec_params("SELECT balatrix.auth_request_token($1, 'email_verification', decode($2, 'hex'), $3, $4)", *email,
		               HashHex(verification), verification, Seconds(kEmailVerificationLifetime));
		return Reply{201, {}, {}};
	});
	if (reply.status != 201)
		return reply;
	json data = TokenPair(s, IssueAccessToken(s, user_id, Role::kCustomer, session_id), refresh);
	data["user"] = json{{"id", user_id},         {"email", *email},        {"firstName", *first_name},
	                    {"lastName", *last_name}, {"role", "customer"},     {"customerId", customer_id},
	                    {"accountId", account_id}, {"emailVerified", false}};
	return Success(c, "Registration successful. Please verify your e-mail address.", data, 201);
}

struct LoginUser {
	std::string id;
	std::string password_hash;
	std::string role;
	bool active = false;
	bool locked = false;
	long long lock_seconds_left = 0;
	bool mfa_enabled = false;
	std::string mfa_secret;
};

Reply
Login(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto email = v.String("email", kEmailRule);
	const auto password = v.String("password", kAnyPasswordRule);
	const auto mfa_code = v.String("mfaCode", StringRule{false, 6, 20, nullptr, ""});
	v.NoOtherFields({"email", "password", "mfaCode"});
	if (!v.ok())
		return v.Failure(c);
	if (auto limited = CheckRateLimit(s, c, s.options.login, RateKey(c)))
		return std::move(*limited);

	std::optional<LoginUser> user;
	Reply looked_up = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		const pqxx::result rows = tx.exec_params(
			"SELECT user_id, password_hash, role, is_active, coalesce(locked_until > now(), false), "
			"coalesce(ceil(extract(epoch FROM locked_until - now())), 0)::bigint, mfa_enabled, coalesce(mfa_secret, '') "
			"FROM balatrix.auth_login_lookup($1)",
			*email);
		if (!rows.empty()) {
			const auto& r = rows[0];
			user = LoginUser{r[0].c_str(),       r[1].c_str(),        r[2].c_str(), r[3].as<bool>(),
			                 r[4].as<bool>(),    r[5].as<long long>(), r[6].as<bool>(), r[7].c_str()};
		}
		return Reply{200, {}, {}};
	});
	if (looked_up.status != 200)
		return looked_up;

	if (user && user->locked) {
		s.passwords.Verify(std::nullopt, *password); // the same time as any other refusal
		const long long minutes = (user->lock_seconds_left + 59) / 60;
		return Failure(c, ErrorCode::kUnauthorized,
		               "Account is locked after too many failed logins; try again in " + std::to_string(minutes) +
		                   (minutes == 1 ? " minute" : " minutes"));
	}
	const bool password_ok =
		s.passwords.Verify(user ? std::optional<std::string_view>(user->password_hash) : std::nullopt, *password);

	const auto record_failure = [&](const char* reason, const std::string& message) {
		return CommitThen(s, c, nullptr, [&](pqxx::transaction_base& tx) {
			const pqxx::result r = tx.exec_params(
				"SELECT attempts_left, locked_until IS NOT NULL FROM balatrix.auth_login_failed($1, $2, $3, $4, $5)",
				user ? user->id.c_str() : nullptr, *email, reason, kMaxLoginAttempts, kLockoutSeconds);
			if (!r.empty() && !r[0][1].is_null() && r[0][1].as<bool>())
				return Failure(c, ErrorCode::kUnauthorized,
				               "Account has been locked for 15 minutes after too many failed logins");
			return Failure(c, ErrorCode::kUnauthorized, message);
		});
	};
	if (!user)
		return record_failure("unknown_email", "Invalid email or password");
	if (!password_ok)
		return record_failure("bad_password", "Invalid email or password");
	if (!user->active)
		return Failure(c, ErrorCode::kUnauthorized, "Account is not active. Please contact support.");

	std::optional<long long> mfa_step;
	bool used_backup_code = false;
	if (user->mfa_enabled) {
		if (!mfa_code)
			return Success(c, "MFA code required", json{{"requiresMfa", true}});
		const auto secret = crypto::Base32Decode(user->mfa_secret);
		if (secret) {
			if (auto step = s.totp.Verify(crypto::View(*secret), *mfa_code))
				mfa_step = *step;
		}
		if (!mfa_step) {
			// Not a current TOTP code: perhaps a backup code (single use).
			Reply tried = CommitThen(s, c, nullptr, [&](pqxx::transaction_base& tx) {
				used_backup_code = tx.exec_params("SELECT balatrix.auth_use_backup_code($1, $2)", user->id,
				                                  HashHex(NormalizeBackupCode(*mfa_code)))[0][0]
				                       .as<bool>();
				return Reply{200, {}, {}};
			});
			if (tried.status != 200)
				return tried;
			if (!used_backup_code)
				return record_failure("mfa_failed", "Invalid MFA code");
		}
	}

	const std::string refresh = crypto::NewToken(s.random);
	std::string session_id;
	Reply started = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		try {
			session_id = tx.exec_params("SELECT balatrix.auth_login_succeeded($1, decode($2, 'hex'), $3, $4, NULL)",
			                            user->id, HashHex(refresh), Seconds(s.options.refresh_lifetime),
			                            mfa_step ? std::to_string(*mfa_step).c_str() : nullptr)[0][0]
			                 .c_str();
		} catch (const pqxx::sql_error& e) {
			if (e.sqlstate() == "28000")
				return Failure(c, ErrorCode::kUnauthorized, mfa_step ? "Invalid MFA code" : "Invalid email or password");
			throw;
		}
		return Reply{200, {}, {}};
	});
	if (started.status != 200)
		return started;
	const Role role = ParseRole(user->role).value_or(Role::kCustomer);
	json data = TokenPair(s, IssueAccessToken(s, user->id, role, session_id), refresh);
	data["user"] = json{{"id", user->id}, {"email", *email}, {"role", user->role}};
	if (used_backup_code)
		data["usedBackupCode"] = true;
	return Success(c, "Login successful", data);
}

Reply
Refresh(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto token = v.String("refreshToken", kTokenRule);
	v.NoOtherFields({"refreshToken"});
	if (!v.ok())
		return v.Failure(c);
	if (auto limited = CheckRateLimit(s, c, s.options.refresh, RateKey(c)))
		return std::move(*limited);
	const std::string next = crypto::NewToken(s.random);
	std::string outcome, user_id, role, session_id;
	Reply done = CommitThen(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		const pqxx::result r =
			tx.exec_params("SELECT outcome, user_id, role, session_id FROM balatrix.auth_refresh(decode($1, 'hex'), "
			               "decode($2, 'hex'), $3)",
			               HashHex(*token), HashHex(next), Seconds(s.options.refresh_lifetime));
		outcome = r[0][0].c_str();
		user_id = r[0][1].is_null() ? "" : r[0][1].c_str();
		role = r[0][2].is_null() ? "" : r[0][2].c_str();
		session_id = r[0][3].is_null() ? "" : r[0][3].c_str();
		return Reply{200, {}, {}};
	});
	if (done.status != 200)
		return done;
	if (outcome == "ok") {
		const Role parsed = ParseRole(role).value_or(Role::kCustomer);
		return Success(c, "Token refreshed", TokenPair(s, IssueAccessToken(s, user_id, parsed, session_id), next));
	}
	if (outcome == "reused") {
		LogEvent(s.logger, LogLevel::kWarn, "refresh_token_reuse",
		         json{{"request_id", c.request_id}, {"user_id", user_id}, {"session_id", session_id}});
		return Failure(c, ErrorCode::kUnauthorized,
		               "Refresh token already used; the session has been ended for safety. Please log in again.");
	}
	if (outcome == "expired")
		return Failure(c, ErrorCode::kUnauthorized, "Refresh token has expired");
	if (outcome == "inactive")
		return Failure(c, ErrorCode::kUnauthorized, "Account is not active");
	return Failure(c, ErrorCode::kUnauthorized, "Refresh token not found or has been revoked");
}

// ---- the caller's own account ------------------------------------------------------------------------------

Reply
Logout(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& p) {
		tx.exec_params("SELECT balatrix.auth_logout($1::uuid)", p.session_id);
		return Success(c, "Logged out successfully", nullptr);
	});
}

Reply
LogoutAll(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const long long n = tx.exec("SELECT balatrix.auth_logout_all()")[0][0].as<long long>();
		return Success(c, "Logged out from all devices successfully", json{{"revokedTokens", n}});
	});
}

Reply
Me(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		return Success(c, "Current user", QueryJson(tx, "SELECT balatrix.auth_me()"));
	});
}

Reply
Sessions(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal& p) {
		json sessions = QueryJson(tx,
		                          "SELECT coalesce(jsonb_agg(to_jsonb(x) || jsonb_build_object('current', x.id = $1::uuid)), "
		                          "'[]') FROM balatrix.auth_sessions() x",
		                          p.session_id);
		return Success(c, "Active sessions", sessions);
	});
}

Reply
RevokeSession(const Services& s, const RequestContext& c)
{
	const std::string id(c.path_params.Get("sessionId").value_or(""));
	if (!IsUuid(id))
		return NotFound(c, "Session");
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		if (tx.exec_params("SELECT balatrix.auth_logout($1::uuid)", id)[0][0].as<long long>() == 0)
			return NotFound(c, "Session");
		return Success(c, "Session revoked successfully", nullptr);
	});
}

// The caller's password hash, read in its own short transaction (the check itself runs outside).
std::variant<std::string, Reply>
CurrentPasswordHash(const Services& s, const RequestContext& c, const Principal& p)
{
	std::string hash;
	Reply r = InTransaction(s, c, &p, [&](pqxx::transaction_base& tx) {
		hash = tx.exec("SELECT balatrix.auth_password_hash()")[0][0].c_str();
		return Reply{200, {}, {}};
	});
	if (r.status != 200)
		return r;
	return hash;
}

Reply
ChangePassword(const Services& s, const RequestContext& c)
{
	auto authenticated = Authenticate(s, c);
	if (auto* reply = std::get_if<Reply>(&authenticated))
		return std::move(*reply);
	const Principal& p = std::get<Principal>(authenticated);
	Validator v(c.body.get());
	const auto current = v.String("currentPassword", kAnyPasswordRule);
	const auto next = v.String("newPassword", kNewPasswordRule);
	v.NoOtherFields({"currentPassword", "newPassword"});
	if (current && next && *current == *next)
		v.Add("newPassword", http::field_code::kNotAllowed, "newPassword must differ from currentPassword");
	if (!v.ok())
		return v.Failure(c);
	auto stored = CurrentPasswordHash(s, c, p);
	if (auto* reply = std::get_if<Reply>(&stored))
		return std::move(*reply);
	if (!s.passwords.Verify(std::get<std::string>(stored), *current))
		return http::ValidationFailure(
			c, {http::FieldError{"currentPassword", http::field_code::kInvalidFormat, "currentPassword is incorrect"}});
	const auto hash = s.passwords.Hash(*next);
	if (!hash)
		return Failure(c, ErrorCode::kServiceUnavailable, "Cannot hash the password right now; try again");
	return InTransaction(s, c, &p, [&](pqxx::transaction_base& tx) {
		tx.exec_params("SELECT balatrix.auth_change_password($1)", *hash);
		return Success(c, "Password changed successfully; every session was ended, please log in again", nullptr);
	});
}

Reply
ForgotPassword(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto email = v.String("email", kEmailRule);
	v.NoOtherFields({"email"});
	if (!v.ok())
		return v.Failure(c);
	if (auto limited = CheckRateLimit(s, c, s.options.password_reset, "ip:" + RateKey(c)))
		return std::move(*limited);
	if (auto limited = CheckRateLimit(s, c, s.options.password_reset, "email:" + crypto::Sha256Hex(*email)))
		return std::move(*limited);
	const std::string token = crypto::NewToken(s.random);
	Reply r = InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		tx.exec_params("SELECT balatrix.auth_request_token($1, 'password_reset', decode($2, 'hex'), $3, $4)", *email,
		               HashHex(token), token, Seconds(s.options.user_token_lifetime));
		return Reply{200, {}, {}};
	});
	if (r.status != 200)
		return r;
	// The same answer whether or not the address has an account.
	return Success(c, "If an account exists with this email, a password reset link has been sent.", nullptr);
}

Reply
ResetPassword(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto token = v.String("token", kTokenRule);
	const auto password = v.String("password", kNewPasswordRule);
	v.NoOtherFields({"token", "password"});
	if (!v.ok())
		return v.Failure(c);
	if (auto limited = CheckRateLimit(s, c, s.options.password_reset, "ip:" + RateKey(c)))
		return std::move(*limited);
	const auto hash = s.passwords.Hash(*password);
	if (!hash)
		return Failure(c, ErrorCode::kServiceUnavailable, "Cannot hash the password right now; try again");
	return InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		if (!tx.exec_params("SELECT balatrix.auth_reset_password(decode($1, 'hex'), $2)", HashHex(*token), *hash)[0][0]
		         .as<bool>())
			return http::ValidationFailure(
				c, {http::FieldError{"token", http::field_code::kInvalidFormat, "token is invalid, used or expired"}});
		return Success(c, "Password reset successfully. Please login with your new password.", nullptr);
	});
}

Reply
VerifyEmail(const Services& s, const RequestContext& c)
{
	const std::string token(c.path_params.Get("token").value_or(""));
	if (token.size() < 16 || token.size() > 200)
		return Failure(c, ErrorCode::kBadRequest, "Invalid or expired verification token");
	return InTransaction(s, c, nullptr, [&](pqxx::transaction_base& tx) {
		if (!tx.exec_params("SELECT balatrix.auth_verify_email(decode($1, 'hex'))", HashHex(token))[0][0].as<bool>())
			return Failure(c, ErrorCode::kBadRequest, "Invalid or expired verification token");
		return Success(c, "Email verified successfully", nullptr);
	});
}

Reply
ResendVerification(const Services& s, const RequestContext& c)
{
	const std::string token = crypto::NewToken(s.random);
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const bool sent = tx.exec_params("SELECT balatrix.auth_request_token((SELECT email FROM balatrix.auth_mfa_state()), "
		                                 "'email_verification', decode($1, 'hex'), $2, $3)",
		                                 HashHex(token), token, Seconds(kEmailVerificationLifetime))[0][0]
		                      .as<bool>();
		if (!sent)
			return Failure(c, ErrorCode::kConflict, "The e-mail address is already verified");
		return Success(c, "Verification e-mail sent", nullptr);
	});
}

// ---- MFA ----------------------------------------------------------------------------------------------------

Reply
MfaSetup(const Services& s, const RequestContext& c)
{
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const pqxx::result state = tx.exec("SELECT email, mfa_enabled FROM balatrix.auth_mfa_state()");
		if (state[0][1].as<bool>())
			return Failure(c, ErrorCode::kConflict, "MFA is already enabled; disable it first");
		const std::string email = state[0][0].c_str();
		const crypto::Bytes secret = crypto::NewTotpSecret(s.random);
		const std::string secret_text = crypto::Base32Encode(crypto::View(secret));
		json codes = json::array();
		std::string hashes = "{";
		for (int i = 0; i < kBackupCodes; ++i) {
			std::uint8_t raw[5];
			s.random.Fill(raw, sizeof raw);
			const std::string code = crypto::Base32Encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
			codes.push_back(code.substr(0, 4) + "-" + code.substr(4));
			hashes += (i ? "," : "") + HashHex(code);
		}
		hashes += "}";
		tx.exec_params("SELECT balatrix.auth_mfa_setup($1, $2::text[])", secret_text, hashes);
		return Success(c, "Scan the secret into an authenticator app, then confirm a code at /api/auth/mfa/verify",
		               json{{"secret", secret_text},
		                    {"otpauthUrl", s.totp.ProvisioningUri(crypto::View(secret), email)},
		                    {"backupCodes", codes}});
	});
}

Reply
MfaVerify(const Services& s, const RequestContext& c)
{
	Validator v(c.body.get());
	const auto code = v.String("code", StringRule{true, 6, 8, nullptr, ""});
	v.NoOtherFields({"code"});
	if (!v.ok())
		return v.Failure(c);
	return Authed(s, c, kAnyRole, [&](pqxx::transaction_base& tx, const Principal&) {
		const pqxx::result state = tx.exec("SELECT mfa_enabled, mfa_secret FROM balatrix.auth_mfa_state()");
		if (state[0][0].as<bool>())
			return Failure(c, ErrorCode::kConflict, "MFA is already enabled");
		if (state[0][1].is_null())
			return Failure(c, ErrorCode::kConflict, "Start with POST /api/auth/mfa/setup");
		const auto secret = crypto::Base32Decode(state[0][1].c_str());
		std::optional<std::int64_t> step;
		if (secret)
			step = s.totp.Verify(crypto::View(*secret), *code);
		if (!step)
			return http::ValidationFailure(c, {http::FieldError{"code", http::field_code::kInvalidFormat, "code is not valid"}});
		tx.exec_params("SELECT balatrix.auth_mfa_enable($1)", static_cast<long long>(*step));
		return Success(c, "MFA enabled", json{{"mfaEnabled", true}});
	});
}

Reply
MfaDisable(const Services& s, const RequestContext& c)
{
	auto authenticated = Authenticate(s, c);
	if (auto* reply = std::get_if<Reply>(&authenticated))
		return std::move(*reply);
	const Principal& p = std::get<Principal>(authenticated);
	Validator v(c.body.get());
	const auto password = v.String("password", kAnyPasswordRule);
	v.NoOtherFields({"password"});
	if (!v.ok())
		return v.Failure(c);
	auto stored = CurrentPasswordHash(s, c, p);
	if (auto* reply = std::get_if<Reply>(&stored))
		return std::move(*reply);
	if (!s.passwords.Verify(std::get<std::string>(stored), *password))
		return http::ValidationFailure(
			c, {http::FieldError{"password", http::field_code::kInvalidFormat, "password is incorrect"}});
	return InTransaction(s, c, &p, [&](pqxx::transaction_base& tx) {
		tx.exec("SELECT balatrix.auth_mfa_disable()");
		return Success(c, "MFA disabled successfully", json{{"mfaEnabled", false}});
	});
}

// ---- admin: users -----------------------------------------------------------------------------------------

Reply
CreateUser(const Services& s, const RequestContext& c)
{
	auto authenticated = Authenticate(s, c);
	if (auto* reply = std::get_if<Reply>(&authenticated))
		return std::move(*reply);
	const Principal& p = std::get<Principal>(authenticated);
	if (!IsAdmin(p.role))
		return Forbidden(c);
	Validator v(c.body.get());
	const auto email = v.String("email", kEmailRule);
	const auto password = v.String("password", kNewPasswordRule);
	const auto role = v.OneOf("role", {"super_admin", "admin", "support", "reseller", "customer"}, true);
	const auto first_name = v.String("firstName", kNameRule);
	const auto last_name = v.String("lastName", kNameRule);
	const auto phone = v.String("phoneNumber", StringRule{false, 3, 16, IsE164, "must be an E.164 number such as +919876543210"});
	v.NoOtherFields({"email", "password", "role", "firstName", "lastName", "phoneNumber"});
	if (!v.ok())
		return v.Failure(c);
	const auto hash = s.passwords.Hash(*password);
	if (!hash)
		return Failure(c, ErrorCode::kServiceUnavailable, "Cannot hash the password right now; try again");
	return InTransaction(s, c, &p, [&](pqxx::transaction_base& tx) {
		const std::string id =
			tx.exec_params("SELECT balatrix.api_create_user($1, $2, $3, $4, $5, $6)", *email, *hash, *role, *first_name,
			               *last_name, phone ? phone->c_str() : nullptr)[0][0]
				.c_str();
		return Success(c, "User created",
		               json{{"id", id}, {"email", *email}, {"role", *role}, {"firstName", *first_name}, {"lastName", *last_name}},
		               201);
	});
}

json
Schema(std::initializer_list<std::pair<const char*, const char*>> fields, std::initializer_list<const char*> required)
{
	json properties = json::object();
	for (const auto& [name, type] : fields)
		properties[name] = json{{"type", type}};
	return json{{"type", "object"}, {"properties", properties}, {"required", json(required)}, {"additionalProperties", false}};
}

} // namespace

void
RegisterAuthRoutes(Registry& registry)
{
	const Services& s = registry.services();
	auto route = [&](const char* method, const char* pattern, const char* summary, bool authenticated, json request,
	                 Reply (*fn)(const Services&, const RequestContext&), int status = 200, Roles roles = {}) {
		RouteDoc doc;
		doc.summary = summary;
		doc.tag = "auth";
		doc.authenticated = authenticated;
		doc.roles = std::move(roles);
		doc.request = std::move(request);
		doc.success_status = status;
		registry.Add(method, pattern, std::move(doc), [&s, fn](const RequestContext& c) { return fn(s, c); });
	};
	route("POST", "/api/auth/register", "Register a customer account (role is always customer)", false,
	      Schema({{"email", "string"}, {"password", "string"}, {"firstName", "string"}, {"lastName", "string"},
	              {"phoneNumber", "string"}, {"companyName", "string"}, {"role", "string"}},
	             {"email", "password", "firstName", "lastName"}),
	      Register, 201);
	route("POST", "/api/auth/login", "Log in (5 failures lock the account for 15 minutes; MFA code when enabled)", false,
	      Schema({{"email", "string"}, {"password", "string"}, {"mfaCode", "string"}}, {"email", "password"}), Login);
	route("POST", "/api/auth/refresh", "Rotate a refresh token (a reused token ends its session)", false,
	      Schema({{"refreshToken", "string"}}, {"refreshToken"}), Refresh);
	route("POST", "/api/auth/logout", "End the current session", true, nullptr, Logout);
	route("POST", "/api/auth/logout-all", "End every session of the caller", true, nullptr, LogoutAll);
	route("GET", "/api/auth/me", "The caller's profile", true, nullptr, Me);
	route("GET", "/api/auth/sessions", "The caller's live sessions", true, nullptr, Sessions);
	route("DELETE", "/api/auth/sessions/:sessionId", "End one of the caller's sessions", true, nullptr, RevokeSession);
	route("POST", "/api/auth/change-password", "Change the password (ends every session)", true,
	      Schema({{"currentPassword", "string"}, {"newPassword", "string"}}, {"currentPassword", "newPassword"}),
	      ChangePassword);
	route("POST", "/api/auth/forgot-password", "Mail a password-reset token (same answer for unknown addresses)", false,
	      Schema({{"email", "string"}}, {"email"}), ForgotPassword);
	route("POST", "/api/auth/reset-password", "Set a new password with a reset token (single use, 1 hour)", false,
	      Schema({{"token", "string"}, {"password", "string"}}, {"token", "password"}), ResetPassword);
	route("GET", "/api/auth/verify-email/:token", "Confirm the e-mail address with its token", false, nullptr,
	      VerifyEmail);
	route("POST", "/api/auth/verify-email/resend", "Mail a new e-mail verification token", true, nullptr,
	      ResendVerification);
	route("POST", "/api/auth/mfa/setup", "Start TOTP MFA setup: secret, otpauth URL, backup codes", true, nullptr,
	      MfaSetup);
	route("POST", "/api/auth/mfa/verify", "Enable MFA with a first TOTP code", true, Schema({{"code", "string"}}, {"code"}),
	      MfaVerify);
	route("POST", "/api/auth/mfa/disable", "Disable MFA (password required)", true,
	      Schema({{"password", "string"}}, {"password"}), MfaDisable);
	route("POST", "/api/auth/users", "Create a user of any role (admins; admins only by a super_admin)", true,
	      Schema({{"email", "string"}, {"password", "string"}, {"role", "string"}, {"firstName", "string"},
	              {"lastName", "string"}, {"phoneNumber", "string"}},
	             {"email", "password", "role", "firstName", "lastName"}),
	      CreateUser, 201, kAdmins);
}

} // namespace balatrix::sidecar::api

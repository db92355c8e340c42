"""The privacy policy families agree to: its version is named here once (ConsentRecord.policy_version records it)."""

PRIVACY_POLICY_VERSION = "2026-09"

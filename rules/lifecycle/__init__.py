"""ECR lifecycle policies: model, validator, renderer, evaluator and deployed-image protection."""

from rules.lifecycle.errors import LifecyclePolicyError
from rules.lifecycle.evaluate import preview_lifecycle_policy
from rules.lifecycle.model import (
    PRESETS,
    LifecycleRule,
    policy_from_config,
    policy_from_rules,
    preset_policy,
    rule_from_config,
)
from rules.lifecycle.protect import (
    MARKER_KEEP,
    MARKER_SLOTS,
    build_cache_rule,
    deploy_prefix_conflict,
    deployed_image_expiring_rule,
    keep_build_cache,
    marker_prefix,
    marker_rule,
    marker_tags,
    multi_entry_warnings,
    protect_deploy_prefix,
    protection_rule,
)
from rules.lifecycle.validate import render_policy, validate_lifecycle_policy

__all__ = [
    "MARKER_KEEP",
    "MARKER_SLOTS",
    "PRESETS",
    "LifecyclePolicyError",
    "LifecycleRule",
    "build_cache_rule",
    "deploy_prefix_conflict",
    "deployed_image_expiring_rule",
    "keep_build_cache",
    "marker_prefix",
    "marker_rule",
    "marker_tags",
    "multi_entry_warnings",
    "policy_from_config",
    "policy_from_rules",
    "preset_policy",
    "preview_lifecycle_policy",
    "protect_deploy_prefix",
    "protection_rule",
    "render_policy",
    "rule_from_config",
    "validate_lifecycle_policy",
]

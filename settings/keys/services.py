"""Declarations of one `services[]` entry: its repository, lifecycle policy and image."""

from __future__ import annotations

from rules.lifecycle import PRESETS as PRESET_RULES
from settings.keys.model import Computed, Key, Section

DEFAULT_PLATFORM = "linux/amd64"
PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm64/v8")
# The rules layer owns the presets; the declaration lists their names for the docs and schema.
PRESETS = tuple(sorted(PRESET_RULES))
SERVICE_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

BUILD = Section(
    "services[].build",
    (
        Key(
            "context",
            "string",
            "The build context directory, relative to Pulumi.yaml.",
            required=True,
            example="app",
        ),
        Key(
            "dockerfile",
            "string",
            "The Dockerfile, relative to the context.",
            Computed("`Dockerfile` in the context"),
            example="Dockerfile",
        ),
        Key("target", "string", "The Dockerfile stage to build.", example="runtime"),
        Key("args", "map<string>", "Build arguments.", example={"VERSION": "2"}),
        Key(
            "cacheFrom",
            "list<string>",
            "Extra cache sources (`type=registry,ref=...`).",
            example=["type=registry,ref=example.com/cache"],
        ),
        Key(
            "extraTags",
            "list<string>",
            "Extra tags every push moves (needs mutable tags).",
            example=["latest"],
        ),
        Key(
            "platforms",
            "list<string>",
            "The platforms CI builds into one image index; the first is what tasks run unless "
            "`run.architecture` picks another.",
            [DEFAULT_PLATFORM],
            choices=PLATFORMS,
            own_check=True,
            example=["linux/arm64"],
        ),
    ),
)

LIFECYCLE = Section(
    "services[].lifecycle",
    (
        Key(
            "preset",
            "string",
            "A named lifecycle policy.",
            "env-prefixes",
            choices=PRESETS,
            example="keep-last-10",
        ),
        Key(
            "rules",
            "json",
            "Rules in this project's short grammar (`keep`, `tagPrefix`, `expireUntaggedAfterDays`, "
            "...); the deploy-protection rule is added first.",
            example=[{"keep": 5, "tagPrefix": "v"}],
        ),
        Key(
            "policy",
            "json",
            "A lifecycle policy in ECR's own JSON grammar (`{rules: [...]}`).",
            example={
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "imageCountMoreThan",
                            "countNumber": 3,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
        ),
    ),
    "One of `preset`, `rules` or `policy`.",
)


def service_section(run: Section) -> Section:
    """A `services[]` entry, with `run` declared in settings.keys.run."""
    return Section(
        "services[]",
        (
            Key(
                "name",
                "string",
                "The service name: lowercase words joined by hyphens; it names the ECS service, "
                "the container, the task family, its log group and the default repository.",
                required=True,
                pattern=SERVICE_NAME,
                example="api2",
            ),
            Key(
                "repository",
                "string",
                "The ECR repository name.",
                Computed("`<stack>/<name>`"),
                example="team/api",
            ),
            Key(
                "lifecycle",
                "object",
                "The repository's lifecycle policy.",
                keys=LIFECYCLE,
            ),
            Key(
                "build",
                "object",
                "Build the image from a Dockerfile (pushed under a tag hashed from its inputs).",
                keys=BUILD,
            ),
            Key(
                "image",
                "string",
                "A prebuilt image pinned by digest (`REPO@sha256:...`) instead of `build`.",
                pattern=r"@sha(256|512):[0-9a-f]+$",
                example="public.ecr.aws/nginx/nginx@sha256:" + "0" * 64,
            ),
            Key(
                "platform",
                "string",
                "The older single platform (use `build.platforms`).",
                DEFAULT_PLATFORM,
                choices=PLATFORMS,
                own_check=True,
                example="linux/arm64",
            ),
            Key("run", "object", "How the service runs on Fargate.", keys=run),
        ),
    )

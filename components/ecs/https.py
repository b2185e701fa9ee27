"""HTTPS for the stack's domain: an ACM certificate validated through Route 53, and the alias
records that point the domain at the load balancer.

With `loadBalancer.domain` + `hostedZoneId` (and no `certificateArn`) the stack requests a
certificate for the domain with DNS validation, writes the validation CNAME in the zone and waits
for issuance (`CertificateValidation`) before the HTTPS listener uses it, so `pulumi up` never
serves a pending certificate. The alias A and AAAA records answer for the domain with the load
balancer's addresses (AAAA answers only once `ipAddressType` is `dualstack`; an IPv4 load
balancer's name has no IPv6 address, and the alias then gives none).
https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def validated_certificate(
    name: str, domain: str, zone_id: str, tags: dict[str, str], parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The ARN of an issued certificate for `domain` (ACM waits up to the validation timeout)."""
    child = pulumi.ResourceOptions(parent=parent)
    certificate = aws.acm.Certificate(
        f"{name}-certificate",
        domain_name=domain,
        validation_method="DNS",
        key_algorithm="EC_prime256v1",
        tags=tags,
        opts=child,
    )
    # One domain and no alternative names: exactly one validation record.
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-certificate-validation-record",
        zone_id=zone_id,
        name=option.resource_record_name,  # type: ignore[arg-type]
        type=option.resource_record_type,  # type: ignore[arg-type]
        records=[option.resource_record_value],  # type: ignore[list-item]
        ttl=300,
        allow_overwrite=True,
        opts=child,
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=child,
    )
    return validation.certificate_arn


def alias_records(
    name: str,
    domain: str,
    zone_id: str,
    load_balancer: aws.lb.LoadBalancer,
    parent: pulumi.Resource,
) -> list[aws.route53.Record]:
    """`domain` A and AAAA, aliases of the load balancer's name (no TTL: Route 53 follows it)."""
    return [
        aws.route53.Record(
            f"{name}-alias-{kind.lower()}",
            zone_id=zone_id,
            name=domain,
            type=kind,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=load_balancer.dns_name,
                    zone_id=load_balancer.zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for kind in ("A", "AAAA")
    ]

"""Every HTTP service started by `omni dev`, the end-to-end tests or the benchmark gets an ops
port of its own (OPS_PORT), apart from its public one."""

from devstack.services import SPECS, metrics_urls, ops_key, plan_ports, service_env


def test_each_http_api_gets_an_ops_port_apart_from_its_public_one() -> None:
    names = [spec.name for spec in SPECS]
    ports = plan_ports(names, prefer_dev_ports=False)
    assert len(set(ports.values())) == len(ports), "two parts share a port"
    for spec in SPECS:
        env = service_env(spec.name, ports, {})
        assert env[spec.port_env] == str(ports[spec.name])
        if spec.public and spec.name != "simulator":
            assert env["OPS_PORT"] == str(ports[ops_key(spec.name)]), spec.name
            assert env["OPS_PORT"] != env[spec.port_env]


def test_metrics_are_listed_at_every_service_ops_port_and_not_the_simulator() -> None:
    ports = plan_ports([spec.name for spec in SPECS], prefer_dev_ports=False)
    found = metrics_urls(ports)
    assert "simulator" not in found
    for spec in SPECS:
        if spec.name == "simulator":
            continue
        env = service_env(spec.name, ports, {})
        assert found[spec.name] == f"http://127.0.0.1:{env['OPS_PORT']}/metrics", spec.name

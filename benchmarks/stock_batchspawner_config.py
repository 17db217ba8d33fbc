"""The baseline for benchmarks/slurm_sessions.py: stock batchspawner 1.3.0 SlurmSpawner
through wrapspawner 1.0.1's ProfilesSpawner, configured as their docs suggest, on the
same test cluster. Benchmark use only (dummy login, loopback)."""
import os

import batchspawner  # noqa: F401  (registers /hub/api/batchspawner; ProfilesSpawner setups 404 without it)

c = get_config()  # noqa: F821

conf = os.environ["SLURM_CONF"]
user_env = os.environ.get("FACTORYHUB_TEST_USER_ENV", "/opt/factoryhub/user-env")
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {"alice", "bob", "carol"}
c.JupyterHub.services = [{"name": "bench", "api_token": os.environ["BENCH_TOKEN"]}]
c.JupyterHub.load_roles = [{"name": "bench", "services": ["bench"],
                            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"]}]
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = 10
c.JupyterHub.cleanup_servers = True
c.JupyterHub.spawner_class = "wrapspawner.ProfilesSpawner"
c.Spawner.cmd = ["jupyterhub-singleuser"]
# The same patience FactoryHub's benchmark site has (sessions.start_timeout_seconds): a storm
# of 20 servers starting on one CPU takes longer than the 60 s / 30 s defaults.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.Spawner.environment = {"SLURM_CONF": conf}
c.ProfilesSpawner.profiles = [
    ("CPU session", "cpu", "batchspawner.SlurmSpawner",
     {"req_partition": "cpu", "req_nprocs": "1", "req_memory": "1G", "req_runtime": "1:00:00", "req_srun": "",
      "req_prologue": f"export PATH={user_env}/bin:$PATH"}),
]

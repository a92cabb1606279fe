/* Subcommands of the bulwark binary. Each returns the process exit code. */
#ifndef BW_CMD_H
#define BW_CMD_H

int bw_cmd_init(int argc, char **argv);
int bw_cmd_serve(int argc, char **argv, char **envp);
int bw_cmd_routes(int argc, char **argv);
int bw_cmd_audit_verify(int argc, char **argv);

#endif

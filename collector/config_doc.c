/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_doc.c - writing the configuration out: the effective configuration
 * (st_config_dump(): YAML, one key per line, secrets redacted, sources
 * noted) and the reference documentation docs/CONFIGURATION.md
 * (st_config_markdown()), both walked from the key table.
 */
#include <stdio.h>
#include <string.h>

#include "config_impl.h"

/* ------------------------------------------------------------------ */
/* Dump                                                               */
/* ------------------------------------------------------------------ */

/* A YAML double-quoted scalar. */
static void st_config_quote(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void st_config_dump(const st_config_t *cfg, FILE *out)
{
	fprintf(out, "# stormtrap effective configuration\n");
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		const void *f = st_config_cfield(cfg, key);
		char buf[64];

		fprintf(out, "%s: ", key->name);
		if (key->flags & ST_CONFIG_F_SECRET) {
			fputs("\"<redacted>\"", out);
		} else {
			switch (key->type) {
			case ST_CONFIG_T_STRING:
				st_config_quote(out, *(char *const *)f);
				break;
			case ST_CONFIG_T_LIST: {
				const st_config_list_t *list = f;

				fputc('[', out);
				for (size_t j = 0; j < list->n; j++) {
					if (j)
						fputs(", ", out);
					st_config_quote(out, list->v[j]);
				}
				fputc(']', out);
				break;
			}
			case ST_CONFIG_T_BOOL:
				fputs(*(const bool *)f ? "true" : "false", out);
				break;
			case ST_CONFIG_T_UINT:
				fprintf(out, "%u", (unsigned)*(const uint32_t *)f);
				break;
			case ST_CONFIG_T_INT:
				fprintf(out, "%lld", (long long)*(const int64_t *)f);
				break;
			case ST_CONFIG_T_MODE:
				st_config_fmt_num(key, *(const uint32_t *)f, buf, sizeof(buf));
				fputs(buf, out);
				break;
			case ST_CONFIG_T_SIZE:
			case ST_CONFIG_T_DURATION:
				st_config_fmt_num(key, (int64_t) * (const uint64_t *)f, buf,
				                  sizeof(buf));
				fputs(buf, out);
				break;
			case ST_CONFIG_T_ENUM:
				fputs(st_config_enum_word(key, *(const int *)f), out);
				break;
			case ST_CONFIG_T_HEX: {
				const st_config_hex_t *hex = f;

				fputc('"', out);
				for (size_t j = 0; j < hex->len; j++)
					fprintf(out, "%02x", hex->v[j]);
				fputc('"', out);
				break;
			}
			}
		}
		if (cfg->origin[i] != ST_CONFIG_SRC_DEFAULT)
			fprintf(out, "  # %s", st_config_src_names[cfg->origin[i]]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < cfg->output_kafka_rdkafka.n; i++) {
		const char *name = cfg->output_kafka_rdkafka.kv[2 * i];

		fprintf(out, "%s%s: ", ST_CONFIG_RDKAFKA_PREFIX, name);
		if (st_config_secret_name(name))
			fputs("\"<redacted>\"", out);
		else
			st_config_quote(out, cfg->output_kafka_rdkafka.kv[2 * i + 1]);
		fputc('\n', out);
	}
}

/* ------------------------------------------------------------------ */
/* Reference documentation                                            */
/* ------------------------------------------------------------------ */

static const char *st_config_type_name(st_config_type_t t)
{
	switch (t) {
	case ST_CONFIG_T_STRING:
		return "string";
	case ST_CONFIG_T_LIST:
		return "list";
	case ST_CONFIG_T_BOOL:
		return "bool";
	case ST_CONFIG_T_UINT:
	case ST_CONFIG_T_INT:
		return "integer";
	case ST_CONFIG_T_SIZE:
		return "size";
	case ST_CONFIG_T_DURATION:
		return "duration";
	case ST_CONFIG_T_MODE:
		return "mode";
	case ST_CONFIG_T_ENUM:
		return "enum";
	case ST_CONFIG_T_HEX:
		return "hex";
	}
	return "?";
}

static void st_config_md_default(FILE *out, const st_config_key_t *key)
{
	char buf[64];

	switch (key->type) {
	case ST_CONFIG_T_STRING:
		if (key->flags & ST_CONFIG_F_HOSTNAME)
			fputs("host name", out);
		else if (!key->def_str[0])
			fputs("empty", out);
		else
			fprintf(out, "`%s`", key->def_str);
		break;
	case ST_CONFIG_T_LIST:
		fprintf(out, "`%s`", key->def_str);
		break;
	case ST_CONFIG_T_BOOL:
		fputs(key->def_num ? "`true`" : "`false`", out);
		break;
	case ST_CONFIG_T_ENUM:
		fprintf(out, "`%s`", st_config_enum_word(key, (int)key->def_num));
		break;
	case ST_CONFIG_T_HEX:
		fprintf(out, "`%s`", key->def_str);
		break;
	default:
		st_config_fmt_num(key, key->def_num, buf, sizeof(buf));
		fprintf(out, "`%s`", buf);
		break;
	}
}

static const char st_config_md_head[] =
        "<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
        "<!-- Written by st_config_markdown() from the key table in collector/config_keys.h.\n"
        "     Do not edit: change the table, then run\n"
        "     stormtrap --config-markdown > docs/CONFIGURATION.md\n"
        "     (the config unit test fails while this file is stale). -->\n"
        "\n"
        "# Configuration\n"
        "\n"
        "stormtrap takes its settings from four sources. Each key has the value given by the\n"
        "highest-precedence source that sets it: built-in defaults, then the YAML file named\n"
        "with `-c FILE`, then environment variables, then the command line (`--set KEY=VALUE`\n"
        "and the short flags). A key that does not exist is an error in every source, and\n"
        "every error names the key and where it came from (file and line, variable or\n"
        "option). `stormtrap -T` checks the configuration and what the start needs from the\n"
        "system (directories, ports, the users file, librdkafka properties), lists every\n"
        "problem and exits 1, or prints the effective configuration with the source of each\n"
        "non-default value and secrets redacted and exits 0 ([OPERATIONS.md](OPERATIONS.md)).\n"
        "\n"
        "## Sources\n"
        "\n"
        "| Source | Form | Example |\n"
        "|---|---|---|\n"
        "| YAML file (`-c FILE`) | nested mappings or dotted keys | `ingest: {backend: recvmmsg}` "
        "or `ingest.backend: recvmmsg` |\n"
        "| Environment | `STORMTRAP_` + the key in upper case, dots as `__` | "
        "`STORMTRAP_INGEST__BACKEND=recvmmsg` |\n"
        "| `--set KEY=VALUE` | any key | `--set ingest.backend=recvmmsg` |\n"
        "| `-l ADDR`, `-o SINK`, `--community NAME` | add one item to `listen`, `output`, "
        "`communities` | `-l udp://[::]:1162` |\n"
        "| `-u FILE` | sets `users_file` | `-u /etc/stormtrap/users.conf` |\n"
        "\n"
        "In the YAML file, nested mappings join their keys with dots, so\n"
        "`output: {kafka: {key: none}}` is `output.kafka.key: none`. The file holds one\n"
        "mapping; a key set twice in it is an error; anchors and aliases are not supported.\n"
        "`output` is both a list and the prefix of other keys: write the list as\n"
        "`output: [...]` and its neighbours dotted (`output.raw: true`,\n"
        "`output.kafka: {...}`).\n"
        "\n"
        "Lists (`listen`, `output`, `communities`) are a YAML sequence, or one string of\n"
        "comma-separated items (the only form in the environment and with `--set`). Each\n"
        "source replaces the whole list rather than adding to it. The `-l`, `-o` and\n"
        "`--community` flags build a list of their own on the command line: when any is\n"
        "given, their items replace the list from the lower sources. In `listen` and\n"
        "`output` a comma starts a new item only where a new address begins (`udp://`,\n"
        "`stdout`, `file:`, `kafka://`), so `kafka://k1:9092,k2:9092/traps,stdout` is two\n"
        "outputs.\n"
        "\n"
        "## Value syntax\n"
        "\n"
        "| Type | Accepted |\n"
        "|---|---|\n"
        "| bool | `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` |\n"
        "| integer | decimal |\n"
        "| size | bytes, or a whole number with a binary suffix: `k`/`KiB`, `M`/`MiB`, "
        "`G`/`GiB`, `T`/`TiB` (`64k`, `32MiB`) |\n"
        "| duration | a whole number with `ms`, `s`, `m` or `h` (`500ms`, `10s`, `2m`); "
        "a bare number is refused, except `0` |\n"
        "| mode | file permission bits in octal, 3 or 4 digits (`0640`, `600`) |\n"
        "| enum | one of the listed words |\n"
        "| hex | hex digits, optionally prefixed `0x`, two per octet |\n"
        "| string | text as given |\n"
        "| list | see above |\n"
        "\n"
        "Suffixes, booleans and enum words are not case-sensitive.\n"
        "\n"
        "Sizes are binary throughout: `M` and `MiB` are both 1,048,576 bytes. The decimal\n"
        "units `KB`, `MB`, `GB` and `TB` are refused rather than guessed at, with the binary\n"
        "unit to write instead (`ingest.rcvbuf: '32MB': sizes are binary: write 32MiB ...`).\n"
        "A duration always carries its unit: `shutdown.timeout: 10` is refused with\n"
        "`'10' needs a unit: ms, s, m, h (e.g. 10s)`, because a bare number read as\n"
        "milliseconds surprised people who meant seconds; `0` needs none.\n"
        "\n"
        "## Keys\n"
        "\n"
        "| Key | Type | Default | Allowed | Description |\n"
        "|---|---|---|---|---|\n";

static const char st_config_md_tail[] =
        "\n"
        "## librdkafka properties\n"
        "\n"
        "Every key below `output.kafka.rdkafka.` is passed to librdkafka as the property\n"
        "named by the rest of the key, in the order first given. stormtrap does not know\n"
        "every librdkafka property: `-T` and the start ask librdkafka about each one.\n"
        "\n"
        "| Source | Example |\n"
        "|---|---|\n"
        "| YAML | `output.kafka: {rdkafka: {linger.ms: 5}}` |\n"
        "| Environment | `STORMTRAP_OUTPUT__KAFKA__RDKAFKA__LINGER__MS=5` (lower-cased, `__` "
        "as `.`) |\n"
        "| Command line | `--set output.kafka.rdkafka.linger.ms=5` |\n"
        "\n"
        "A higher-precedence source replaces the value of a property a lower one set.\n"
        "\n"
        "## Secrets\n"
        "\n"
        "The effective configuration printed by `-T` and at start-up shows `\"<redacted>\"`\n"
        "instead of the value of every librdkafka property whose name contains `password`\n"
        "or `secret`, and of `ssl.key.pem` and `sasl.oauthbearer.config`. Prefer the\n"
        "environment for secrets: it keeps them out of files and process listings.\n"
        "\n"
        "## Example\n"
        "\n"
        "```yaml\n"
        "collector.name: st-1\n"
        "listen:\n"
        "  - udp://192.0.2.10:162\n"
        "  - udp://[2001:db8::10]:162\n"
        "output:\n"
        "  - kafka://kafka-1:9092,kafka-2:9092/snmp-notifications\n"
        "communities: [public, netops]\n"
        "users_file: /etc/stormtrap/users.conf\n"
        "ingest:\n"
        "  backend: auto\n"
        "  rcvbuf: 64MiB\n"
        "threads:\n"
        "  workers: 8\n"
        "output.raw: false\n"
        "output.kafka:\n"
        "  key: agent_addr\n"
        "  queue_timeout: 10s\n"
        "  rdkafka:\n"
        "    linger.ms: 5\n"
        "    compression.type: lz4\n"
        "    security.protocol: sasl_ssl\n"
        "    sasl.mechanisms: SCRAM-SHA-512\n"
        "    sasl.username: stormtrap\n"
        "snmp:\n"
        "  engine_id: 0x800000000473746f726d74726170\n"
        "  engine_boots: 1\n"
        "metrics.listen: 127.0.0.1:9163\n"
        "log:\n"
        "  format: json\n"
        "shutdown.timeout: 30s\n"
        "```\n"
        "\n"
        "with the Kafka password from the environment:\n"
        "`STORMTRAP_OUTPUT__KAFKA__RDKAFKA__SASL__PASSWORD=...`.\n";

void st_config_markdown(FILE *out)
{
	fputs(st_config_md_head, out);
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		char env[ST_CONFIG_NAME_MAX], range[160];

		st_config_env_name(key->name, env, sizeof(env));
		st_config_fmt_range(key, range, sizeof(range));
		fprintf(out, "| `%s`<br>`%s` | %s | ", key->name, env,
		        st_config_type_name(key->type));
		st_config_md_default(out, key);
		fprintf(out, " | %s | %s |\n", range, key->doc);
	}
	fprintf(out, "| `%s*` | string | | | librdkafka properties, see below. |\n",
	        ST_CONFIG_RDKAFKA_PREFIX);
	fputs(st_config_md_tail, out);
}

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from './log.ts';
import { run } from './proc.ts';
import { paths } from './paths.ts';

function mvnArgs(): string[] {
  // Batch mode keeps CI logs readable; the download progress is summarised per artifact.
  return ['-B', '-q', '-Dstyle.color=never'];
}

/**
 * Copies one artifact (e.g. `org.keycloak:keycloak-quarkus-dist:26.5.2:tar.gz`) from Maven Central
 * through the local repository into `dir`. Already-present files are not fetched again.
 */
export async function copyMavenArtifact(service: string, artifact: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  log.step(service, `fetching ${artifact} from Maven Central (first time only)`);
  await run('mvn', [...mvnArgs(), 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`]);
  const added = readdirSync(dir).filter((file) => !before.has(file));
  const [group, name, version] = artifact.split(':');
  const file = added[0] ?? readdirSync(dir).find((f) => f.startsWith(`${name}-${version}`));
  if (!file) throw new Error(`${service}: ${group}:${name}:${version} was not copied into ${dir}`);
  return join(dir, file);
}

/**
 * Copies an artifact and its runtime dependencies (a Java program's classpath) into `dir`,
 * using a throwaway POM so no Maven project has to exist in the repository.
 */
export async function copyMavenClasspath(service: string, coordinates: string[], dir: string): Promise<void> {
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return;
  mkdirSync(dir, { recursive: true });
  const dependencies = coordinates
    .map((gav) => {
      const [groupId, artifactId, version] = gav.split(':');
      return `<dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`;
    })
    .join('');
  const pom = `<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>bionicpro.stack</groupId><artifactId>${service}-classpath</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>${dependencies}</dependencies></project>`;
  const pomDir = join(paths.vendor, 'poms', service);
  mkdirSync(pomDir, { recursive: true });
  writeFileSync(join(pomDir, 'pom.xml'), pom);
  log.step(service, `fetching ${coordinates.join(', ')} and dependencies from Maven Central (first time only)`);
  await run('mvn', [...mvnArgs(), '-f', join(pomDir, 'pom.xml'), 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${dir}`]);
  writeFileSync(marker, new Date().toISOString());
}

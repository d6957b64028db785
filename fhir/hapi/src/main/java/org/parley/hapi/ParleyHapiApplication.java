package org.parley.hapi;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * Entry point of the Parley HAPI FHIR JPA server (FHIR R4).
 *
 * <p>All FHIR behaviour comes from HAPI FHIR; this project only wires HAPI's own Spring
 * configuration into a Spring Boot application (see {@link HapiJpaServerConfig} and
 * {@link FhirRestServerConfig}).
 *
 * <p>Auto-configurations that HAPI's classpath would otherwise switch on are excluded: HAPI
 * runs its own Quartz schedulers, narratives are off (no Thymeleaf), there is no
 * Elasticsearch, HAPI manages its own schema (no Flyway), and this project defines the
 * {@code entityManagerFactory} itself (no Boot JPA auto-configuration).
 */
@SpringBootApplication(
		excludeName = {
			"org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration",
			"org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration",
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration",
			"org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration",
			"org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
			"org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
			"org.springframework.boot.autoconfigure.data.jpa.JpaRepositoriesAutoConfiguration",
		})
public class ParleyHapiApplication {

	public static void main(String[] args) {
		SpringApplication.run(ParleyHapiApplication.class, args);
	}
}

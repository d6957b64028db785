package org.parley.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.binary.api.IBinaryStorageSvc;
import ca.uhn.fhir.jpa.binstore.DatabaseBinaryContentStorageSvcImpl;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import jakarta.persistence.EntityManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Persistence and storage wiring for HAPI's JPA server (FHIR R4).
 *
 * <p>HAPI's own {@code @Configuration} classes provide the DAOs, resource providers, search,
 * paging, batch2 and schedulers; this class supplies the few beans HAPI expects the
 * application to define: storage settings, partition settings, binary storage, the entity
 * manager factory and the transaction manager. Subscriptions are not enabled.
 */
@Configuration
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	ThreadPoolFactoryConfig.class,
	// Not for subscriptions: provides the in-memory IBrokerClient that batch2 needs.
	SubscriptionChannelConfig.class,
})
public class HapiJpaServerConfig {

	private static final Logger ourLog = LoggerFactory.getLogger(HapiJpaServerConfig.class);

	static final String H2_DIALECT = "ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect";
	static final String POSTGRES_DIALECT = "ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect";

	/** Storage behaviour, matching the defaults of the official hapiproject/hapi image. */
	@Bean
	public JpaStorageSettings jpaStorageSettings() {
		JpaStorageSettings settings = new JpaStorageSettings();
		settings.setEnforceReferentialIntegrityOnWrite(true);
		settings.setEnforceReferentialIntegrityOnDelete(true);
		settings.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		settings.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.SEQUENTIAL_NUMERIC);
		// null = never reuse cached search results: a repeated search always sees new data.
		settings.setReuseCachedSearchResultsForMillis(null);
		settings.setAllowExternalReferences(false);
		settings.setAutoCreatePlaceholderReferenceTargets(false);
		settings.setExpungeEnabled(true);
		// No Hibernate Search / Lucene indexing.
		settings.setHibernateSearchIndexSearchParams(false);
		settings.setHibernateSearchIndexFullText(false);
		return settings;
	}

	/** Needed by HAPI's entity manager factory helper; partitioning stays off. */
	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	/** Externalised Binary content is kept in the database (HFJ_BINARY_STORAGE). */
	@Bean
	public IBinaryStorageSvc binaryStorageSvc() {
		return new DatabaseBinaryContentStorageSvcImpl();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			DataSource dataSource,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			Environment environment) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setDataSource(dataSource);
		emf.setJpaPropertyMap(hibernateProperties(environment));
		return emf;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	/**
	 * Hibernate settings: fixed defaults, overlaid with everything under
	 * {@code spring.jpa.properties.*} (application.yaml or env vars such as
	 * {@code SPRING_JPA_PROPERTIES_HIBERNATE_DIALECT}). If no dialect is configured, the HAPI
	 * dialect is chosen from the JDBC URL.
	 */
	static Map<String, Object> hibernateProperties(Environment environment) {
		Map<String, Object> props = new LinkedHashMap<>();
		props.put("hibernate.hbm2ddl.auto", "update");
		props.put("hibernate.jdbc.batch_size", "20");
		props.put("hibernate.format_sql", "false");
		props.put("hibernate.show_sql", "false");
		props.put("hibernate.cache.use_query_cache", "false");
		props.put("hibernate.cache.use_second_level_cache", "false");
		props.put("hibernate.cache.use_structured_entries", "false");
		props.put("hibernate.cache.use_minimal_puts", "false");
		props.put("hibernate.search.enabled", "false");
		props.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		props.put(
				"hibernate.implicit_naming_strategy",
				"org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
		props.put(
				"hibernate.physical_naming_strategy",
				"org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");

		Binder.get(environment)
				.bind("spring.jpa.properties", Bindable.mapOf(String.class, String.class))
				.ifBound(props::putAll);

		Object dialect = props.get("hibernate.dialect");
		if (dialect == null || dialect.toString().isBlank()) {
			String url = environment.getProperty("spring.datasource.url", "");
			dialect = url.startsWith("jdbc:postgresql:") ? POSTGRES_DIALECT : H2_DIALECT;
			props.put("hibernate.dialect", dialect);
		}
		ourLog.info("Hibernate dialect: {}", props.get("hibernate.dialect"));
		return props;
	}
}

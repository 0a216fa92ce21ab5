// SearchOracle: the reference side of the search parity check (tests/oracle/search.mk).
//
// Runs the real thing: Anserini (the jar pyserini bundles) on Lucene 9, on an index that
// Anserini's IndexCollection built from the catalog exactly as WebShop's setup does
// (JsonCollection, DefaultLuceneDocumentGenerator, DefaultEnglishAnalyzer with Porter, BM25).
//
//   SearchOracle search INDEX K     query lines on stdin -> one line per query:
//                                   "docid:scorebits docid:scorebits ..." (scorebits: the raw
//                                   Lucene float score as 8 hex digits), in SimpleSearcher's order
//   SearchOracle analyze-docs       products.jsonl on stdin -> {"id":..,"tokens":[..]} per line
//   SearchOracle analyze-lines      text lines on stdin -> one JSON array of tokens per line
//   SearchOracle tokenize-lines     the same with the bare StandardTokenizer (no filters)
//   SearchOracle tables N           SmallFloat tables and (float) idf for n = 1..N (checks)
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.anserini.analysis.AnalyzerUtils;
import io.anserini.analysis.DefaultEnglishAnalyzer;
import io.anserini.search.ScoredDoc;
import io.anserini.search.SimpleSearcher;
import io.anserini.search.query.BagOfWordsQueryGenerator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TopFieldDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.SmallFloat;

public class SearchOracle {
  public static void main(String[] args) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    ObjectMapper json = new ObjectMapper();
    Analyzer analyzer = DefaultEnglishAnalyzer.newDefaultInstance();
    String line;
    switch (args[0]) {
      case "search": {
        int k = Integer.parseInt(args[2]);
        SimpleSearcher searcher = new SimpleSearcher(args[1]);
        // The same query and sort on a plain IndexSearcher, for the raw (unrounded) scores:
        // SimpleSearcher's ScoreTiesAdjusterReranker rounds the scores it hands out.
        IndexReader reader = DirectoryReader.open(FSDirectory.open(Paths.get(args[1])));
        IndexSearcher raw = new IndexSearcher(reader);
        raw.setSimilarity(new BM25Similarity(0.9f, 0.4f));
        Sort sort = new Sort(SortField.FIELD_SCORE, new SortField("id", SortField.Type.STRING_VAL));
        BagOfWordsQueryGenerator gen = new BagOfWordsQueryGenerator();
        while ((line = in.readLine()) != null) {
          ScoredDoc[] hits = searcher.search(line, k);
          Query q = gen.buildQuery("contents", analyzer, line);
          TopFieldDocs td = raw.search(q, k, sort, true);
          if (td.scoreDocs.length != hits.length)
            throw new IllegalStateException("hit count differs for: " + line);
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < hits.length; i++) {
            ScoreDoc sd = td.scoreDocs[i];
            String id = reader.storedFields().document(sd.doc).get("id");
            if (!id.equals(hits[i].docid))
              throw new IllegalStateException("order differs for: " + line);
            if (i > 0) sb.append(' ');
            sb.append(id).append(':').append(String.format("%08x", Float.floatToRawIntBits(sd.score)));
          }
          out.println(sb);
        }
        break;
      }
      case "analyze-docs":
        while ((line = in.readLine()) != null) {
          if (line.isBlank()) continue;
          JsonNode doc = json.readTree(line);
          ObjectNode o = json.createObjectNode();
          o.put("id", doc.get("id").asText());
          ArrayNode toks = o.putArray("tokens");
          for (String t : AnalyzerUtils.analyze(analyzer, doc.get("contents").asText())) toks.add(t);
          out.println(json.writeValueAsString(o));
        }
        break;
      case "tokenize-lines":
        // The bare StandardTokenizer (no filters): one JSON array of tokens per input line.
        while ((line = in.readLine()) != null) {
          ArrayNode toks = json.createArrayNode();
          try (org.apache.lucene.analysis.Tokenizer tok =
              new org.apache.lucene.analysis.standard.StandardTokenizer()) {
            tok.setReader(new java.io.StringReader(line));
            org.apache.lucene.analysis.tokenattributes.CharTermAttribute term =
                tok.addAttribute(org.apache.lucene.analysis.tokenattributes.CharTermAttribute.class);
            tok.reset();
            while (tok.incrementToken()) toks.add(term.toString());
            tok.end();
          }
          out.println(json.writeValueAsString(toks));
        }
        break;
      case "analyze-lines":
        while ((line = in.readLine()) != null) {
          ArrayNode toks = json.createArrayNode();
          for (String t : AnalyzerUtils.analyze(analyzer, line)) toks.add(t);
          out.println(json.writeValueAsString(toks));
        }
        break;
      case "tables": {
        int n = Integer.parseInt(args[1]);
        for (int i = 0; i < 256; i++) out.println("byte4ToInt " + i + " " + SmallFloat.byte4ToInt((byte) i));
        for (int i = 0; i <= 5000; i++) out.println("intToByte4 " + i + " " + (SmallFloat.intToByte4(i) & 0xff));
        for (long df = 1; df <= n; df++) {
          float idf = (float) Math.log(1 + (n - df + 0.5D) / (df + 0.5D));
          out.println("idf " + df + " " + String.format("%08x", Float.floatToRawIntBits(idf)));
        }
        break;
      }
      default:
        throw new IllegalArgumentException("unknown mode " + args[0]);
    }
    out.flush();
  }
}
